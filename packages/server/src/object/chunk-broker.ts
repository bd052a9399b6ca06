import { errorCode } from '../errors.js'
import { LinkedAbort } from '../linked-abort.js'

/** Somewhere chunks of one object can be read from: the local replica, or a holder. */
export interface ChunkSource {
  /** 'local', or the holder's node id. */
  readonly id: string
  /** Checks one chunk of this source's upload and returns its plaintext; throws for one that does not verify. */
  open(index: number, ciphertext: Buffer): Buffer
  /** The ciphertext of chunks first..first+count-1, in order. */
  read(
    first: number,
    count: number,
    signal: AbortSignal,
  ): AsyncIterable<{ index: number; ciphertext: Buffer }>
}

export interface BrokerOptions {
  first: number
  last: number
  /** Chunks asked for in one request. */
  batch: number
  /** Requests in flight per source. */
  window: number
  /** A source failed (bad bytes, a stall, an error); it gets no more requests. */
  onBad: (source: ChunkSource, err: unknown) => void
  /** Called once every source has failed (or none was given): more sources to try, or none. */
  moreSources?: () => Promise<ChunkSource[]>
  onChunk?: (source: ChunkSource, index: number) => void
  /** Keep each chunk's ciphertext beside its plaintext (to cache it); otherwise it is let go at once. */
  keepCiphertext?: boolean
  signal: AbortSignal
}

export interface BrokeredChunk {
  index: number
  /** Empty unless `keepCiphertext`. */
  ciphertext: Buffer
  plain: Buffer
  source: string
}

const EMPTY = Buffer.alloc(0)

interface Batch {
  first: number
  count: number
}

/**
 * Verified chunks of one object, in order, from several sources at once
 * (Helia's block brokers, kept simple): the range is cut into batches, each
 * source has a bounded window of batches in flight, each chunk is verified on
 * arrival by its source's opener (uploads of the same bytes differ in key), and what a failed or stalled source left undone goes to the
 * others. Memory: at most sources × window × batch chunks ahead of the reader.
 * Sources can join while it runs (`add`), e.g. holders whose commits arrive later.
 */
export class ChunkBroker {
  readonly #o: BrokerOptions
  readonly #sources: { source: ChunkSource; inflight: number; bad: boolean }[] = []
  readonly #queue: Batch[] = []
  readonly #ready = new Map<number, BrokeredChunk>()
  readonly #errors: { source: string; err: unknown }[] = []
  #wake: (() => void) | undefined
  #asked = false
  #lookups = 0

  constructor(sources: ChunkSource[], opts: BrokerOptions) {
    this.#o = opts
    for (let i = opts.first; i <= opts.last; i += opts.batch) {
      this.#queue.push({ first: i, count: Math.min(opts.batch, opts.last - i + 1) })
    }
    for (const s of sources) this.add(s)
  }

  /** Failures so far, one per source. */
  get errors(): { source: string; err: unknown }[] {
    return [...this.#errors]
  }

  /** Sources may still join until `lookup` settles: the broker waits for it before it gives up. */
  expect(lookup: Promise<unknown>): void {
    this.#lookups++
    const done = () => {
      this.#lookups--
      this.#notify()
    }
    lookup.then(done, done)
  }

  add(source: ChunkSource): void {
    if (this.#sources.some((s) => s.source.id === source.id)) return
    this.#sources.push({ source, inflight: 0, bad: false })
    this.#notify()
  }

  async *chunks(): AsyncGenerator<BrokeredChunk> {
    // Follows the caller's signal; aborted when the reader is done, which stops the sources' reads.
    const link = new LinkedAbort([this.#o.signal])
    const signal = link.signal
    let next = this.#o.first
    signal.addEventListener('abort', () => this.#notify(), { once: true })
    try {
      while (next <= this.#o.last) {
        signal.throwIfAborted()
        const got = this.#ready.get(next)
        if (got) {
          this.#ready.delete(next)
          next++
          this.#schedule(next, signal)
          yield got
          continue
        }
        this.#schedule(next, signal)
        const alive = this.#sources.filter((s) => !s.bad)
        if (alive.length === 0 || (alive.every((s) => s.inflight === 0) && this.#queue.length === 0)) {
          if (alive.length === 0 && !this.#asked && this.#o.moreSources) {
            this.#asked = true
            await this.#o.moreSources().then(
              (more) => {
                for (const s of more) this.add(s)
              },
              (err) => {
                this.#errors.push({ source: 'lookup', err })
              },
            )
            continue
          }
          if (alive.length === 0 && this.#lookups === 0) throw new NoSourceLeftError(this.#errors)
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve
        })
        this.#wake = undefined
      }
    } finally {
      link.finish()
    }
  }

  #schedule(next: number, signal: AbortSignal): void {
    const ahead = Math.max(1, this.#sources.length) * this.#o.window * this.#o.batch
    for (;;) {
      const batch = this.#queue[0]
      if (!batch || batch.first > next + ahead) return
      const free = this.#sources
        .filter((s) => !s.bad && s.inflight < this.#o.window)
        .sort((a, b) => a.inflight - b.inflight)[0]
      if (!free) return
      this.#queue.shift()
      free.inflight++
      void this.#run(free, batch, signal)
    }
  }

  async #run(s: { source: ChunkSource; inflight: number; bad: boolean }, batch: Batch, signal: AbortSignal) {
    let done = batch.first
    try {
      for await (const { index, ciphertext } of s.source.read(batch.first, batch.count, signal)) {
        if (index !== done) throw new Error(`source ${s.source.id} sent chunk ${index}, expected ${done}`)
        const plain = s.source.open(index, ciphertext)
        this.#o.onChunk?.(s.source, index)
        const kept = this.#o.keepCiphertext ? ciphertext : EMPTY
        this.#ready.set(index, { index, ciphertext: kept, plain, source: s.source.id })
        done++
        this.#notify()
      }
      if (done !== batch.first + batch.count) throw new Error(`source ${s.source.id} ended early`)
    } catch (err) {
      if (!signal.aborted) {
        s.bad = true
        this.#errors.push({ source: s.source.id, err })
        this.#o.onBad(s.source, err)
      }
      const left = batch.first + batch.count - done
      if (left > 0) this.#queue.unshift({ first: done, count: left })
    } finally {
      s.inflight--
      this.#notify()
    }
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}

/** Every source of an object failed; `errors` says how each one did. */
export class NoSourceLeftError extends Error {
  readonly code: string
  constructor(readonly errors: { source: string; err: unknown }[]) {
    const codes = errors.map((e) => errorCode(e.err) ?? 'ERR_UNKNOWN')
    super(
      `no source could serve the object (${errors.map((e, i) => `${e.source.slice(0, 12)}: ${codes[i]}`).join('; ') || 'none found'})`,
    )
    this.code = 'ERR_NOT_FOUND'
  }
}
