import { ChunkDecryptor } from './chunk-decryptor.js'
import { ChunkEncryptor, type Emit } from './chunk-encryptor.js'
import type { OpenOptions, SealOptions } from './sealed-format.js'
import { piecesOf, type Source } from './source.js'

export interface IterableOptions {
  /** Stops the iteration with the signal's reason. */
  signal?: AbortSignal
}

/** The sealed stream of `source`, as an async iterable. Options are checked at once, not on first pull. */
export function encryptIterable(
  source: Source,
  opts: SealOptions & IterableOptions,
): AsyncIterable<Uint8Array> {
  return run(source, new ChunkEncryptor(opts), opts.signal)
}

/**
 * The verified plaintext of a sealed `source`. Throws an `IntegrityError` at the first chunk
 * that fails; nothing of that chunk or later ones is yielded.
 */
export function decryptIterable(
  source: Source,
  opts: OpenOptions & IterableOptions,
): AsyncIterable<Uint8Array> {
  return run(source, new ChunkDecryptor(opts), opts.signal)
}

async function* run(
  source: Source,
  core: { update(data: Uint8Array, emit: Emit): void; final(emit: Emit): void },
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = []
  const emit: Emit = (piece) => {
    out.push(piece)
  }
  for await (const piece of piecesOf(source, signal)) {
    core.update(piece, emit)
    yield* drain(out)
  }
  core.final(emit)
  yield* drain(out)
}

function* drain(out: Uint8Array[]): Generator<Uint8Array> {
  for (let i = 0; i < out.length; i++) yield out[i]!
  out.length = 0
}
