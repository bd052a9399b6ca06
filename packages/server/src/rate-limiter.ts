import { setTimeout as delay } from 'node:timers/promises'

/**
 * A token bucket over bytes, shared by everything that sends replicas (put
 * fan-out and repair). `take(n)` resolves once n more bytes fit under
 * `bytesPerSecond`. A take larger than what the bucket holds runs into debt
 * that later takes wait off, so a 1 MiB chunk under a 256 KiB/s limit waits
 * about 4 s instead of never fitting; waiters are served in the order they came.
 */
export class RateLimiter {
  readonly bytesPerSecond: number
  readonly #burst: number
  #tokens: number
  #at = performance.now()

  /** `burst`: bytes that may leave at once after a quiet spell; default a quarter second's worth (at least 64 KiB). */
  constructor(bytesPerSecond: number, burst = Math.max(64 * 1024, Math.floor(bytesPerSecond / 4))) {
    if (!(bytesPerSecond > 0)) throw new RangeError('bytesPerSecond must be above 0')
    this.bytesPerSecond = bytesPerSecond
    this.#burst = burst
    this.#tokens = burst
  }

  /** Waits until `n` bytes may be sent. An aborted wait gives its bytes back and rejects with the signal's reason. */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now()
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.bytesPerSecond)
    this.#at = now
    this.#tokens -= n
    if (this.#tokens >= 0) return
    const waitMs = (-this.#tokens / this.bytesPerSecond) * 1000
    try {
      await delay(waitMs, undefined, signal ? { signal } : undefined)
    } catch (err) {
      this.#tokens += n
      throw signal?.reason ?? err
    }
  }
}

/** Passes `records` through, each one only once the limiter lets its bytes go; without a limiter, as they are. */
export function throttled(
  records: AsyncIterable<Uint8Array>,
  limiter: RateLimiter | undefined,
  signal?: AbortSignal,
): AsyncIterable<Uint8Array> {
  if (limiter === undefined) return records
  return (async function* () {
    for await (const record of records) {
      await limiter.take(record.byteLength, signal)
      yield record
    }
  })()
}
