import { describeError, TimeoutError } from './errors.js'
import { STREAM_WINDOW } from './options.js'
import { chunksOf, type Source } from './source.js'

export interface OutboundSink {
  chunk(seq: number, data: Uint8Array): Promise<void>
  end(): void
  error(code: string, message: string): void
}

/**
 * The sending half of a stream: it reads the source only as fast as the
 * receiver grants credit and the socket drains, so a slow consumer slows the
 * source itself.
 */
export class OutboundStream {
  private credit = STREAM_WINDOW
  private stopped = false
  private waiter: (() => void) | undefined

  /**
   * `creditTimeoutMs`: the longest wait for the receiver to grant credit. A receiver that takes
   * nothing for that long fails the stream, so the source (a file, a replica) is closed and its
   * buffers freed instead of waiting for ever. Undefined waits as long as the connection lives.
   */
  constructor(private readonly creditTimeoutMs?: number) {}

  grant(n: number): void {
    this.credit += n
    this.wake()
  }

  /** Stops sending; the source is closed at its next step. */
  cancel(): void {
    this.stopped = true
    this.wake()
  }

  get isStopped(): boolean {
    return this.stopped
  }

  /** Sends the whole source, then `end`; a failing source sends `error` and rethrows. */
  async run(source: Source, chunkSize: number, sink: OutboundSink): Promise<void> {
    let seq = 0
    try {
      for await (const piece of chunksOf(source, chunkSize)) {
        while (this.credit < piece.length && !this.stopped) await this.waitForCredit()
        if (this.stopped) return
        this.credit -= piece.length
        await sink.chunk(seq++, piece)
      }
      if (!this.stopped) sink.end()
    } catch (err) {
      if (this.stopped) return
      const { code, message } = describeError(err)
      sink.error(code, message)
      throw err
    } finally {
      this.stopped = true
    }
  }

  private waitForCredit(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer =
        this.creditTimeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.waiter = undefined
              reject(new TimeoutError(`the receiver granted no credit for ${this.creditTimeoutMs} ms`))
            }, this.creditTimeoutMs)
      this.waiter = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  private wake(): void {
    const w = this.waiter
    this.waiter = undefined
    w?.()
  }
}
