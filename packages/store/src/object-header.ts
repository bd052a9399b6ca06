import { CorruptObjectError } from './errors.js'

/**
 * Every object file starts with a small header that records its key, so that `list` can return keys
 * although the default path transform is one-way:
 *
 *   magic "CASB" | version u8 | keyLength u16be | key (UTF-8)
 */
export const HEADER_MAGIC = Buffer.from('CASB', 'latin1')
export const HEADER_VERSION = 1
const FIXED = HEADER_MAGIC.length + 1 + 2

/** Longest key accepted, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024

export function headerLength(key: string): number {
  return FIXED + Buffer.byteLength(key, 'utf8')
}

export function encodeHeader(key: string): Buffer {
  const keyBytes = Buffer.from(key, 'utf8')
  const header = Buffer.allocUnsafe(FIXED + keyBytes.length)
  HEADER_MAGIC.copy(header, 0)
  header.writeUInt8(HEADER_VERSION, 4)
  header.writeUInt16BE(keyBytes.length, 5)
  keyBytes.copy(header, FIXED)
  return header
}

/** Reads the key from the first bytes of an object file; `bytes` holds at least FIXED + MAX_KEY_BYTES bytes or the whole file. */
export function decodeHeader(bytes: Uint8Array, path: string): { key: string; length: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < FIXED || !buf.subarray(0, 4).equals(HEADER_MAGIC)) {
    throw new CorruptObjectError(path, 'missing header')
  }
  if (buf.readUInt8(4) !== HEADER_VERSION)
    throw new CorruptObjectError(path, `unknown version ${buf.readUInt8(4)}`)
  const keyLength = buf.readUInt16BE(5)
  if (keyLength === 0 || keyLength > MAX_KEY_BYTES || buf.length < FIXED + keyLength) {
    throw new CorruptObjectError(path, 'bad key length')
  }
  return { key: buf.toString('utf8', FIXED, FIXED + keyLength), length: FIXED + keyLength }
}

export const HEADER_PROBE_BYTES = FIXED + MAX_KEY_BYTES
