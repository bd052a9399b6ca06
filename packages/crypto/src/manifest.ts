import { createCipheriv, createDecipheriv, createHash } from 'node:crypto'
import { IntegrityError, InvalidArgumentError } from './errors.js'

/**
 * A format 2 object's manifest: the plaintext length and SHA-256 of each
 * chunk, in order. The cid is the SHA-256 of these bytes, so it commits to
 * every chunk and any chunk can be checked on its own:
 *
 *   "CASM" | version u8 = 2 | count u32be | (length u32be | sha256[32]) × count
 *
 * Peers never see it in the clear: it travels sealed (AES-256-GCM under the
 * object's manifest key, which is used once, with a zero IV).
 */
export const MANIFEST_MAGIC = Buffer.from('CASM', 'latin1')
export const MANIFEST_VERSION = 2
export const MANIFEST_HEADER_BYTES = MANIFEST_MAGIC.length + 1 + 4
export const MANIFEST_ENTRY_BYTES = 4 + 32
/** Plaintext bytes per chunk written by this version: 1 MiB. Readers take any length the manifest records. */
export const OBJECT_CHUNK_SIZE = 1024 * 1024
/** The largest chunk a reader accepts: it holds one chunk in memory before checking it. */
export const MAX_OBJECT_CHUNK_SIZE = 4 * 1024 * 1024
const GCM_TAG_BYTES = 16
const ZERO_IV = Buffer.alloc(12)

export interface ManifestChunk {
  /** Plaintext bytes. */
  length: number
  /** SHA-256 of the plaintext. */
  hash: Uint8Array
}

export interface Manifest {
  chunks: ManifestChunk[]
  /** Sum of the chunk lengths. */
  size: number
  /** Byte offset of each chunk in the plaintext, and the size at the end. */
  offsets: number[]
}

export function encodeManifest(chunks: readonly ManifestChunk[]): Buffer {
  const out = Buffer.allocUnsafe(MANIFEST_HEADER_BYTES + chunks.length * MANIFEST_ENTRY_BYTES)
  MANIFEST_MAGIC.copy(out, 0)
  out[MANIFEST_MAGIC.length] = MANIFEST_VERSION
  out.writeUInt32BE(chunks.length, MANIFEST_MAGIC.length + 1)
  let at = MANIFEST_HEADER_BYTES
  for (const c of chunks) {
    if (!Number.isInteger(c.length) || c.length < 1 || c.length > MAX_OBJECT_CHUNK_SIZE) {
      throw new InvalidArgumentError(`a chunk holds 1 to ${MAX_OBJECT_CHUNK_SIZE} bytes, got ${c.length}`)
    }
    if (c.hash.byteLength !== 32) throw new InvalidArgumentError('a chunk hash is 32 bytes')
    out.writeUInt32BE(c.length, at)
    out.set(c.hash, at + 4)
    at += MANIFEST_ENTRY_BYTES
  }
  return out
}

/** Parses manifest bytes; any malformation is an IntegrityError ('manifest'). */
export function decodeManifest(bytes: Uint8Array): Manifest {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.byteLength < MANIFEST_HEADER_BYTES || !buf.subarray(0, 4).equals(MANIFEST_MAGIC)) {
    throw new IntegrityError('manifest', 'not a format 2 manifest')
  }
  if (buf[4] !== MANIFEST_VERSION) {
    throw new IntegrityError(
      'manifest',
      `manifest version ${buf[4]} is not supported (only ${MANIFEST_VERSION})`,
    )
  }
  const count = buf.readUInt32BE(5)
  if (buf.byteLength !== MANIFEST_HEADER_BYTES + count * MANIFEST_ENTRY_BYTES) {
    throw new IntegrityError('manifest', `a manifest of ${count} chunks cannot be ${buf.byteLength} bytes`)
  }
  const chunks: ManifestChunk[] = []
  const offsets: number[] = [0]
  let size = 0
  for (let i = 0, at = MANIFEST_HEADER_BYTES; i < count; i++, at += MANIFEST_ENTRY_BYTES) {
    const length = buf.readUInt32BE(at)
    if (length < 1 || length > MAX_OBJECT_CHUNK_SIZE) {
      throw new IntegrityError('manifest', `chunk ${i} declares ${length} bytes`)
    }
    chunks.push({ length, hash: buf.subarray(at + 4, at + MANIFEST_ENTRY_BYTES) })
    size += length
    offsets.push(size)
  }
  return { chunks, size, offsets }
}

/** The cid of an object: SHA-256 of its manifest bytes, lowercase hex. */
export function cidOfManifest(manifestBytes: Uint8Array): string {
  return createHash('sha256').update(manifestBytes).digest('hex')
}

/** The manifest sealed under the object's manifest key: ciphertext | GCM tag[16]. */
export function sealManifest(manifestKey: Uint8Array, manifestBytes: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-256-gcm', manifestKey, ZERO_IV)
  const body = Buffer.concat([cipher.update(manifestBytes), cipher.final()])
  return Buffer.concat([body, cipher.getAuthTag()])
}

/**
 * Opens a sealed manifest and checks it against the cid: a wrong key, a
 * tampered box, or a manifest of other content is an IntegrityError.
 */
export function openManifest(manifestKey: Uint8Array, box: Uint8Array, cid: string): Manifest {
  if (box.byteLength < GCM_TAG_BYTES + MANIFEST_HEADER_BYTES) {
    throw new IntegrityError('manifest', 'the sealed manifest is too short')
  }
  const b = Buffer.from(box.buffer, box.byteOffset, box.byteLength)
  let bytes: Buffer
  try {
    const decipher = createDecipheriv('aes-256-gcm', manifestKey, ZERO_IV)
    decipher.setAuthTag(b.subarray(b.byteLength - GCM_TAG_BYTES))
    bytes = Buffer.concat([decipher.update(b.subarray(0, b.byteLength - GCM_TAG_BYTES)), decipher.final()])
  } catch {
    throw new IntegrityError('manifest', 'the sealed manifest does not open with this object key')
  }
  if (cidOfManifest(bytes) !== cid) {
    throw new IntegrityError('manifest', `the manifest does not hash to cid ${cid}`)
  }
  return decodeManifest(bytes)
}

/** Sealed manifest bytes for an object of `count` chunks. */
export function sealedManifestSize(count: number): number {
  return MANIFEST_HEADER_BYTES + count * MANIFEST_ENTRY_BYTES + GCM_TAG_BYTES
}

/** The first and last chunk (inclusive) holding plaintext bytes `start`..`end` (inclusive); none for an empty range. */
export function chunksOfRange(
  m: Manifest,
  start: number,
  end: number,
): { first: number; last: number } | undefined {
  if (m.size === 0 || start > end || start >= m.size) return undefined
  return { first: chunkAt(m, start), last: chunkAt(m, Math.min(end, m.size - 1)) }
}

function chunkAt(m: Manifest, offset: number): number {
  let lo = 0
  let hi = m.chunks.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    if ((m.offsets[mid] as number) <= offset) lo = mid
    else hi = mid - 1
  }
  return lo
}
