import type { Store } from '@cas/store'
import { errorCode } from '../errors.js'
import { type CommitChunk, MAX_SIGNED_COMMIT_BYTES, openSignedCommit, type SignedCommit } from './commit.js'

/**
 * A replica as one store object, on holders (namespace ownerId, key locator)
 * and on the owner (namespace `self`, key cid) alike:
 *
 *   ciphertext chunks, in order | signed commit | signedCommitLength u32be | "CAS2"
 *
 * The commit sits at the end (as restic does with its pack headers) because a
 * one-pass put knows it only after the last chunk; the file is still written
 * once, front to back, and renamed into place whole.
 */
export const REPLICA_MAGIC = Buffer.from('CAS2', 'latin1')
export const FOOTER_BYTES = 8

export function replicaTrailer(signed: SignedCommit): Buffer {
  const footer = Buffer.allocUnsafe(FOOTER_BYTES)
  footer.writeUInt32BE(signed.bytes.byteLength, 0)
  REPLICA_MAGIC.copy(footer, 4)
  return Buffer.concat([signed.bytes, footer])
}

/** A replica file's head: its signed commit and where each chunk's ciphertext sits. */
export interface ReplicaHead {
  signed: SignedCommit
  /** Byte offset of each chunk in the file's content, and the end of the last. */
  offsets: number[]
  /** A small replica's whole content, read at once with its head: its chunks are cut from it. */
  whole?: Buffer
}

/**
 * Replicas up to this size (every packed one) are read whole in one read, instead of a read for the
 * footer, one for the commit and one for the chunks: for a small get the reads cost more than bytes.
 */
const WHOLE_REPLICA_BYTES = 256 * 1024

/** Why a replica file could not be read as one. */
export class ReplicaFormatError extends Error {
  readonly code = 'ERR_CORRUPT_OBJECT'
}

/**
 * Reads and checks a replica's trailer: magic, lengths, and the owner's
 * signature over the commit. A missing file is the store's NotFoundError; a
 * file that is not a format 2 replica (format 1 data, a damaged trailer) is
 * ReplicaFormatError. The chunks themselves are checked as they are read.
 */
export async function readReplicaHead(store: Store, namespace: string, key: string): Promise<ReplicaHead> {
  const { size } = await store.stat(key, { namespace })
  if (size < FOOTER_BYTES) throw new ReplicaFormatError(`${namespace}/${key}: too short for a replica`)
  const whole = size <= WHOLE_REPLICA_BYTES ? await readRange(store, namespace, key, 0, size - 1) : undefined
  if (whole && whole.byteLength !== size) {
    throw new ReplicaFormatError(`${namespace}/${key}: ${whole.byteLength} bytes read of ${size}`)
  }
  const footer = whole
    ? whole.subarray(size - FOOTER_BYTES)
    : await readRange(store, namespace, key, size - FOOTER_BYTES, size - 1)
  if (!footer.subarray(4).equals(REPLICA_MAGIC)) {
    throw new ReplicaFormatError(`${namespace}/${key}: not a format 2 replica (no "CAS2" footer)`)
  }
  const len = footer.readUInt32BE(0)
  if (len > MAX_SIGNED_COMMIT_BYTES || len > size - FOOTER_BYTES) {
    throw new ReplicaFormatError(`${namespace}/${key}: impossible commit length ${len}`)
  }
  const start = size - FOOTER_BYTES - len
  let signed: SignedCommit
  try {
    signed = openSignedCommit(
      whole
        ? whole.subarray(start, size - FOOTER_BYTES)
        : await readRange(store, namespace, key, start, size - FOOTER_BYTES - 1),
    )
  } catch (err) {
    if (errorCode(err) === 'ERR_NOT_FOUND') throw err
    throw new ReplicaFormatError(`${namespace}/${key}: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (signed.dataBytes !== start) {
    throw new ReplicaFormatError(
      `${namespace}/${key}: ${start} bytes of chunks, the commit lists ${signed.dataBytes}`,
    )
  }
  const offsets = [0]
  let at = 0
  for (const c of signed.commit.chunks) {
    at += c.length
    offsets.push(at)
  }
  return whole ? { signed, offsets, whole } : { signed, offsets }
}

async function readRange(
  store: Store,
  namespace: string,
  key: string,
  start: number,
  end: number,
): Promise<Buffer> {
  if (end < start) return Buffer.alloc(0)
  const parts: Buffer[] = []
  for await (const piece of store.read(key, { namespace, start, end })) parts.push(piece as Buffer)
  return Buffer.concat(parts)
}

/**
 * The ciphertext of chunks `first`..`last` (inclusive) of a replica file, one
 * buffer per chunk, read in one sequential pass.
 */
export async function* readChunks(
  store: Store,
  namespace: string,
  key: string,
  head: ReplicaHead,
  first: number,
  last: number,
  signal?: AbortSignal,
): AsyncGenerator<{ index: number; ciphertext: Buffer }> {
  if (last < first) return
  if (head.whole) {
    for (let index = first; index <= last; index++) {
      signal?.throwIfAborted()
      const at = head.offsets[index] as number
      yield { index, ciphertext: head.whole.subarray(at, head.offsets[index + 1] as number) }
    }
    return
  }
  const start = head.offsets[first] as number
  const end = (head.offsets[last + 1] as number) - 1
  const stream = store.read(key, { namespace, start, end })
  try {
    yield* splitChunks(stream, head.signed.commit.chunks, first, last, signal)
  } catch (err) {
    if (err instanceof ShortChunksError) throw new ReplicaFormatError(`${namespace}/${key}: ${err.message}`)
    throw err
  } finally {
    stream.destroy()
  }
}

/** Bytes ended before chunk `index` was whole. */
export class ShortChunksError extends Error {
  constructor(readonly index: number) {
    super(`ended inside chunk ${index}`)
  }
}

/**
 * Cuts a byte stream (the ciphertext of chunks `first`..`last`, back to back)
 * into one buffer per chunk, by the lengths the commit lists; a chunk within
 * one piece is a view of it, one across pieces a copy.
 */
export async function* splitChunks(
  pieces: AsyncIterable<Uint8Array>,
  chunks: readonly CommitChunk[],
  first: number,
  last: number,
  signal?: AbortSignal,
): AsyncGenerator<{ index: number; ciphertext: Buffer }> {
  let index = first
  let parts: Buffer[] = []
  let have = 0
  for await (const raw of pieces) {
    signal?.throwIfAborted()
    let piece = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
    while (piece.byteLength > 0 && index <= last) {
      const want = chunks[index]?.length ?? 0
      const take = Math.min(want - have, piece.byteLength)
      parts.push(piece.subarray(0, take))
      have += take
      piece = piece.subarray(take)
      if (have === want) {
        yield { index, ciphertext: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts) }
        index++
        parts = []
        have = 0
      }
    }
  }
  if (index !== last + 1) throw new ShortChunksError(index)
}
