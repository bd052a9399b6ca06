import { Transform, type TransformCallback } from 'node:stream'
import { formatBytes, formatDuration } from './output.js'

const REDRAW_MS = 100

/** A one-line progress bar on a TTY: bytes, percentage, rate, ETA. */
export class ProgressBar {
  readonly #stream: NodeJS.WriteStream
  readonly #label: string
  readonly #total: number | undefined
  readonly #format: (n: number) => string
  readonly #started = performance.now()
  #done = 0
  #drawnAt = 0
  #finished = false

  /** `format` shows an amount (default: bytes); a bar over objects passes its own. */
  constructor(opts: {
    stream: NodeJS.WriteStream
    label: string
    total: number | undefined
    format?: (n: number) => string
  }) {
    this.#stream = opts.stream
    this.#label = opts.label
    this.#total = opts.total
    this.#format = opts.format ?? formatBytes
  }

  /** Sets the amount done (for progress read from elsewhere, not counted here). */
  set(done: number): void {
    this.add(done - this.#done)
  }

  add(bytes: number): void {
    this.#done += bytes
    const now = performance.now()
    if (now - this.#drawnAt >= REDRAW_MS) {
      this.#drawnAt = now
      this.#draw(now)
    }
  }

  /** Draws the final state and moves to a new line; `note` replaces the rate (e.g. "replicating…"). */
  finish(note?: string): void {
    if (this.#finished) return
    this.#finished = true
    this.#draw(performance.now(), note)
    this.#stream.write('\n')
  }

  #draw(now: number, note?: string): void {
    const seconds = (now - this.#started) / 1000
    const rate = seconds > 0 ? this.#done / seconds : 0
    const columns = this.#stream.columns ?? 80
    let right = `${this.#format(this.#done)}`
    if (this.#total !== undefined) right += ` / ${this.#format(this.#total)}`
    right += note ? `  ${note}` : `  ${this.#format(rate)}/s`
    if (this.#total !== undefined && !note) {
      const eta = rate > 0 ? (this.#total - this.#done) / rate : Number.POSITIVE_INFINITY
      right += `  ETA ${formatDuration(eta)}`
    }
    let bar = ''
    if (this.#total !== undefined) {
      const ratio = this.#total === 0 ? 1 : Math.min(1, this.#done / this.#total)
      const width = Math.max(10, Math.min(40, columns - this.#label.length - right.length - 12))
      const full = Math.round(ratio * width)
      bar = ` [${'='.repeat(full)}${' '.repeat(width - full)}] ${String(Math.floor(ratio * 100)).padStart(3)}%`
    }
    const line = `${this.#label}${bar}  ${right}`.slice(0, columns - 1)
    this.#stream.write(`\r${line}\x1b[K`)
  }
}

/** A pass-through that reports how many bytes went by. */
export function byteCounter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      onBytes(chunk.length)
      done(null, chunk)
    },
  })
}
