import { ProtocolError, TimeoutError } from './errors.js'
import { STREAM_WINDOW } from './options.js'

export interface InboundStreamOptions {
  /** Grants the sender `n` more bytes (sends a credit frame). */
  onCredit(n: number): void
  /** The consumer stopped early or timed out: tell the sender to stop. */
  onCancel(): void
  /** Called once when nothing more will come from the wire: ended, failed or cancelled. */
  onDone(): void
  /** Longest wait for the next chunk while the consumer is waiting, in ms. */
  timeout: number
}

/**
 * The receiving half of a stream: chunks queue here until the consumer pulls
 * them, and credit goes back only for what was pulled, so at most one window
 * of bytes ever waits in memory.
 */
export class InboundStream implements AsyncIterable<Uint8Array> {
  private queue: Uint8Array[] = []
  private allowance = STREAM_WINDOW
  private unacked = 0
  private nextSeq = 0
  private ended = false
  private error: Error | undefined
  private done = false
  private waiter: { resolve: () => void } | undefined
  private iterated = false
  private settled = false

  constructor(private readonly opts: InboundStreamOptions) {}

  /** Adds a chunk from the wire; throws ProtocolError when the sender broke order or credit. */
  push(seq: number, data: Uint8Array): void {
    if (this.done || this.ended || this.error) return
    if (seq !== this.nextSeq) throw new ProtocolError(`chunk ${seq} arrived where ${this.nextSeq} was due`)
    this.nextSeq++
    this.allowance -= data.length
    if (this.allowance < 0) throw new ProtocolError('the sender overran its stream credit')
    this.queue.push(data)
    this.wake()
  }

  end(): void {
    if (this.done || this.ended || this.error) return
    this.ended = true
    this.wake()
    this.settle()
  }

  fail(err: Error): void {
    if (this.done || this.ended || this.error) return
    this.error = err
    this.wake()
    this.settle()
  }

  /** Stops the stream from our side: the sender is told, queued bytes are dropped. */
  cancel(): void {
    if (this.done) return
    const wasLive = !this.ended && !this.error
    this.finish()
    if (wasLive) this.opts.onCancel()
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.iterated) throw new TypeError('a stream can be iterated only once')
    this.iterated = true
    return {
      next: () => this.next(),
      return: async () => {
        this.cancel()
        return { done: true, value: undefined }
      },
    }
  }

  private async next(): Promise<IteratorResult<Uint8Array>> {
    for (;;) {
      const chunk = this.queue.shift()
      if (chunk) {
        this.credit(chunk.length)
        return { done: false, value: chunk }
      }
      if (this.error) {
        const err = this.error
        this.finish()
        throw err
      }
      if (this.ended || this.done) {
        this.finish()
        return { done: true, value: undefined }
      }
      await this.wait()
    }
  }

  private wait(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        if (this.ended || this.error) return
        this.opts.onCancel()
        this.fail(new TimeoutError(`no stream data for ${this.opts.timeout} ms`))
      }, this.opts.timeout)
      this.waiter = {
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
      }
    })
  }

  private credit(n: number): void {
    this.unacked += n
    // Batch credit frames: one per quarter window is enough to keep the sender busy.
    if (this.unacked >= STREAM_WINDOW / 4 && !this.ended) {
      this.allowance += this.unacked
      this.opts.onCredit(this.unacked)
      this.unacked = 0
    }
  }

  private wake(): void {
    const w = this.waiter
    this.waiter = undefined
    w?.resolve()
  }

  private finish(): void {
    if (this.done) return
    this.done = true
    this.queue = []
    this.wake()
    this.settle()
  }

  private settle(): void {
    if (this.settled) return
    this.settled = true
    this.opts.onDone()
  }
}
