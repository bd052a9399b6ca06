import { createHmac } from 'node:crypto'

/**
 * HKDF-SHA256 (RFC 5869) with an empty salt and 32 bytes out, on `createHmac`: the same bytes as
 * `hkdfSync('sha256', ikm, '', info, 32)` at a fifth of its cost per call (hkdfSync builds key
 * objects and checks its arguments each time; a put derives several keys).
 */
export function hkdf32(ikm: Uint8Array, info: string): Buffer {
  return hkdfExpand32(hkdfExtract(ikm), info)
}

/** HKDF-Extract with an empty salt (HMAC pads an empty key with zeros, as RFC 5869 asks). */
export function hkdfExtract(ikm: Uint8Array): Buffer {
  return createHmac('sha256', EMPTY).update(ikm).digest()
}

/** HKDF-Expand to one block: T(1) = HMAC(prk, info ‖ 0x01). */
export function hkdfExpand32(prk: Uint8Array, info: string): Buffer {
  return createHmac('sha256', prk).update(info, 'utf8').update(ONE).digest()
}

const EMPTY = Buffer.alloc(0)
const ONE = Buffer.from([1])
