import type { Readable } from 'node:stream'

/** Bytes in any of the shapes callers commonly hold them. */
export type Source = Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array

/** Iterates a source as Uint8Array chunks; strings from a text-mode stream are refused rather than guessed at. */
export async function* iterateSource(source: Source): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source
    return
  }
  for await (const chunk of source as AsyncIterable<unknown>) {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError('source yielded a non-binary chunk; pass bytes (a stream without an encoding)')
    }
    yield chunk
  }
}
