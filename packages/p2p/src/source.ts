import type { Readable } from 'node:stream'

/** What the API accepts as bytes: a stream, any async iterable of chunks, or one buffer. */
export type Source = Readable | AsyncIterable<Uint8Array> | Uint8Array

/** Yields the source's bytes in pieces of at most `maxChunk` bytes, without copying. */
export async function* chunksOf(source: Source, maxChunk: number): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield* split(source, maxChunk)
    return
  }
  for await (const chunk of source as AsyncIterable<unknown>) {
    if (typeof chunk === 'string') yield* split(Buffer.from(chunk), maxChunk)
    else if (chunk instanceof Uint8Array) yield* split(chunk, maxChunk)
    else throw new TypeError('a data source yielded something other than bytes')
  }
}

function* split(buf: Uint8Array, maxChunk: number): Generator<Uint8Array> {
  for (let at = 0; at < buf.length; at += maxChunk) yield buf.subarray(at, at + maxChunk)
}
