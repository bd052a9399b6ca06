import { Readable, type Transform } from 'node:stream'

/** Feeds `data` into a transform in the given piece sizes (cycled) and collects everything it pushes. */
export async function throughTransform(
  transform: Transform,
  data: Uint8Array,
  pieceSizes: readonly number[] = [data.length || 1],
): Promise<Buffer> {
  const out: Buffer[] = []
  transform.on('data', (piece: Buffer) => out.push(piece))
  const done = new Promise<void>((resolve, reject) => {
    transform.on('end', resolve)
    transform.on('error', reject)
  })
  // the failure is awaited below; until then it must not count as unhandled
  done.catch(() => undefined)
  let off = 0
  let i = 0
  while (off < data.length && !transform.destroyed) {
    const size = Math.max(1, pieceSizes[i++ % pieceSizes.length]!)
    if (!transform.write(data.subarray(off, off + size))) await onceDrainOrError(transform)
    off += size
  }
  if (!transform.destroyed) transform.end()
  await done
  return Buffer.concat(out)
}

/**
 * Like `throughTransform`, but never throws: returns what was pushed before the stream
 * ended or failed, and the error if it failed.
 */
export async function throughTransformSettled(
  transform: Transform,
  data: Uint8Array,
  pieceSizes: readonly number[] = [data.length || 1],
): Promise<{ output: Buffer; error: unknown }> {
  const out: Buffer[] = []
  transform.on('data', (piece: Buffer) => out.push(piece))
  try {
    await throughTransform(transform, data, pieceSizes)
    return { output: Buffer.concat(out), error: undefined }
  } catch (error) {
    return { output: Buffer.concat(out), error }
  }
}

function onceDrainOrError(stream: Transform): Promise<void> {
  return new Promise((resolve) => {
    const settle = () => {
      stream.off('drain', settle)
      stream.off('error', settle)
      stream.off('close', settle)
      resolve()
    }
    stream.on('drain', settle)
    stream.on('error', settle)
    stream.on('close', settle)
  })
}

/** Splits `data` at the given offsets (clamped and sorted) into a list of pieces. */
export function splitAt(data: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(offsets.map((o) => Math.min(Math.max(0, o), data.length)))].sort((a, b) => a - b)
  const pieces: Uint8Array[] = []
  let start = 0
  for (const cut of [...cuts, data.length]) {
    pieces.push(data.subarray(start, cut))
    start = cut
  }
  return pieces
}

/** An async iterable over the given pieces, as a peer or a file would deliver them. */
export async function* iterate(pieces: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) yield piece
}

export async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = []
  for await (const piece of source) out.push(piece)
  return Buffer.concat(out)
}

export function readableOf(pieces: readonly Uint8Array[]): Readable {
  return Readable.from(pieces.map((p) => Buffer.from(p)))
}
