import { PeerTimeoutError, SizeMismatchError } from './errors.js'
import type { Source } from './types.js'

export async function* iterate(source: Source): AsyncIterable<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source
    return
  }
  yield* source
}

/** Passes chunks through and reports the running byte count. */
export async function* counted(
  source: AsyncIterable<Uint8Array>,
  onBytes: (n: number) => void,
): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    onBytes(chunk.byteLength)
    yield chunk
  }
}

/** Ends with an error as soon as more than `max` bytes arrive, or if fewer than `exact` arrive. */
export async function* limited(
  source: AsyncIterable<Uint8Array>,
  max: number,
  exact: boolean,
): AsyncIterable<Uint8Array> {
  let total = 0
  for await (const chunk of source) {
    total += chunk.byteLength
    if (total > max) throw new SizeMismatchError(`received more than the declared ${max} bytes`)
    yield chunk
  }
  if (exact && total !== max) throw new SizeMismatchError(`received ${total} bytes, declared ${max}`)
}

/**
 * Fails with PeerTimeoutError when the source yields nothing for `ms`, and
 * calls `onTimeout` (which aborts the request) so the sender stops too.
 */
export async function* idleTimeout(
  source: AsyncIterable<Uint8Array>,
  ms: number,
  nodeId: string,
  onTimeout: () => void,
): AsyncIterable<Uint8Array> {
  const it = source[Symbol.asyncIterator]()
  let done = false
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          onTimeout()
          reject(new PeerTimeoutError(nodeId, ms))
        }, ms)
      })
      let next: IteratorResult<Uint8Array>
      try {
        next = await Promise.race([it.next(), timeout])
      } finally {
        clearTimeout(timer)
      }
      if (next.done) {
        done = true
        return
      }
      yield next.value
    }
  } finally {
    // A pending next() may never settle on a hung peer: ask the source to stop without awaiting it.
    if (!done) void Promise.resolve(it.return?.()).catch(() => {})
  }
}
