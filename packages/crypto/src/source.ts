import type { Readable } from 'node:stream'
import { InvalidArgumentError } from './errors.js'

/** What every streaming API accepts: a byte `Readable`, any async iterable of bytes, or one buffer. */
export type Source = Readable | AsyncIterable<Uint8Array> | Uint8Array

/** Iterates a source's pieces, checking the signal before each one. */
export async function* piecesOf(source: Source, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  signal?.throwIfAborted()
  if (source instanceof Uint8Array) {
    yield source
    return
  }
  for await (const piece of source as AsyncIterable<unknown>) {
    signal?.throwIfAborted()
    if (!(piece instanceof Uint8Array)) {
      // e.g. a Readable with setEncoding(): its strings would be re-encoded silently otherwise
      throw new InvalidArgumentError(`a source must yield Uint8Array pieces, got ${typeof piece}`)
    }
    yield piece
  }
}
