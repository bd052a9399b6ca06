import { createHmac } from 'node:crypto'
import { IntegrityError, InvalidArgumentError } from './errors.js'

/**
 * The sealed stream format, version 1:
 *
 *   header  "CAS1" | version u8 = 1 | chunkSize u32be | iv[16]
 *   chunk*  ciphertext | tag[32]
 *   tagKey = HMAC-SHA256(fileMacKey, "cas/tag-key" ‖ fileKey)
 *   tag_i  = HMAC-SHA256(tagKey, header ‖ u64be(i) ‖ u8(final) ‖ ciphertext_i)
 *
 * tagKey binds the tags to the encryption key as well (DESIGN.md keys them with fileMacKey
 * alone): a stream opened with the right mac key but a wrong file key would otherwise verify
 * and decrypt to garbage; this way every wrong key is an IntegrityError at the first chunk.
 *
 * Every chunk but the last holds exactly chunkSize bytes; the last (final = 1) holds fewer,
 * possibly none, so a stream always ends with a short final chunk and a reader knows a
 * chunk is final from its length alone. AES-256-CTR runs over the whole stream from `iv`.
 */
export const MAGIC = Buffer.from('CAS1', 'latin1')
export const FORMAT_VERSION = 1
export const IV_BYTES = 16
export const HEADER_BYTES = MAGIC.length + 1 + 4 + IV_BYTES
export const TAG_BYTES = 32
export const KEY_BYTES = 32
/** 64 KiB: large enough to amortise the per-chunk tag, small enough to stream. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024
/** The largest chunk an encryptor writes. */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024
/** The largest chunk a decryptor accepts unless told otherwise: a reader buffers one chunk. */
export const DEFAULT_MAX_CHUNK_SIZE = MAX_CHUNK_SIZE
/** The ceiling for a decryptor's `maxChunkSize` option. */
const MAX_MAX_CHUNK_SIZE = 1024 * 1024 * 1024

export interface StreamKeys {
  /** The object's AES-256 key (32 bytes), e.g. `fileKeys(secrets, cid).fileKey`. */
  fileKey: Uint8Array
  /** The object's HMAC key (32 bytes), e.g. `fileKeys(secrets, cid).fileMacKey`. */
  macKey: Uint8Array
}

export interface SealOptions extends StreamKeys {
  /** Plaintext bytes per chunk, 1 ≤ chunkSize ≤ MAX_CHUNK_SIZE. Default `DEFAULT_CHUNK_SIZE` (64 KiB). */
  chunkSize?: number
}

export interface OpenOptions extends StreamKeys {
  /** Refuse streams whose header declares larger chunks. Default `DEFAULT_MAX_CHUNK_SIZE` (16 MiB). */
  maxChunkSize?: number
}

export function encodeHeader(chunkSize: number, iv: Uint8Array): Buffer {
  const header = Buffer.alloc(HEADER_BYTES)
  MAGIC.copy(header, 0)
  header[MAGIC.length] = FORMAT_VERSION
  header.writeUInt32BE(chunkSize, MAGIC.length + 1)
  header.set(iv, MAGIC.length + 5)
  return header
}

/** Checks a received header; every way it can be wrong is an `IntegrityError`. */
export function parseHeader(header: Buffer, maxChunkSize: number): { chunkSize: number; iv: Buffer } {
  if (!header.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new IntegrityError('header', 'not a sealed stream: the header does not start with "CAS1"')
  }
  const version = header[MAGIC.length]
  if (version !== FORMAT_VERSION) {
    throw new IntegrityError(
      'header',
      `sealed stream version ${version} is not supported (only ${FORMAT_VERSION})`,
    )
  }
  const chunkSize = header.readUInt32BE(MAGIC.length + 1)
  if (chunkSize === 0) throw new IntegrityError('header', 'the sealed stream declares a chunk size of 0')
  if (chunkSize > maxChunkSize) {
    throw new IntegrityError(
      'chunk-size',
      `the sealed stream declares ${chunkSize}-byte chunks, above the limit of ${maxChunkSize} (raise maxChunkSize to accept it)`,
    )
  }
  return { chunkSize, iv: header.subarray(MAGIC.length + 5, HEADER_BYTES) }
}

const TAG_KEY_LABEL = 'cas/tag-key'

/** The key of every chunk tag of a stream: HMAC-SHA256(macKey, "cas/tag-key" ‖ fileKey). */
export function tagKeyOf(keys: StreamKeys): Buffer {
  return createHmac('sha256', keys.macKey).update(TAG_KEY_LABEL).update(keys.fileKey).digest()
}

/** The tag of chunk `index`: HMAC-SHA256(tagKey, header ‖ u64be(index) ‖ u8(final) ‖ ciphertext). */
export function chunkTag(
  tagKey: Uint8Array,
  header: Buffer,
  index: number,
  final: boolean,
  ciphertext: Uint8Array,
): Buffer {
  const position = Buffer.allocUnsafe(9)
  position.writeUInt32BE(Math.floor(index / 2 ** 32), 0)
  position.writeUInt32BE(index >>> 0, 4)
  position[8] = final ? 1 : 0
  return createHmac('sha256', tagKey).update(header).update(position).update(ciphertext).digest()
}

/** Size of the sealed stream for `plainSize` bytes of plaintext. */
export function sealedSize(plainSize: number, chunkSize: number = DEFAULT_CHUNK_SIZE): number {
  checkSize(plainSize, 'plainSize')
  checkChunkSize(chunkSize, MAX_CHUNK_SIZE)
  return HEADER_BYTES + plainSize + TAG_BYTES * (Math.floor(plainSize / chunkSize) + 1)
}

/** Plaintext size of a sealed stream of `size` bytes, or an `IntegrityError` if no plaintext seals to that size. */
export function plainSizeOf(size: number, chunkSize: number = DEFAULT_CHUNK_SIZE): number {
  checkSize(size, 'size')
  checkChunkSize(chunkSize, MAX_MAX_CHUNK_SIZE)
  const body = size - HEADER_BYTES
  const fullChunks = Math.floor(body / (chunkSize + TAG_BYTES))
  const last = body - fullChunks * (chunkSize + TAG_BYTES)
  if (body < 0 || last < TAG_BYTES) {
    throw new IntegrityError(
      'truncated',
      `${size} bytes is not the size of a sealed stream with ${chunkSize}-byte chunks`,
    )
  }
  return fullChunks * chunkSize + last - TAG_BYTES
}

export function checkKeys(opts: StreamKeys): void {
  for (const name of ['fileKey', 'macKey'] as const) {
    const key: unknown = opts[name]
    if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
      throw new InvalidArgumentError(`${name} must be a ${KEY_BYTES}-byte Uint8Array`)
    }
  }
}

export function checkChunkSize(chunkSize: number, max: number, name = 'chunkSize'): void {
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > max) {
    throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}, got ${chunkSize}`)
  }
}

export function checkMaxChunkSize(maxChunkSize: number): void {
  checkChunkSize(maxChunkSize, MAX_MAX_CHUNK_SIZE, 'maxChunkSize')
}

function checkSize(size: number, name: string): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new InvalidArgumentError(`${name} must be a non-negative integer, got ${size}`)
  }
}
