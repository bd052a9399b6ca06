import { createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto'
import type { OwnerKey } from './owner-key.js'

const SIGNATURE_BYTES = 64

/** An Ed25519 signature (64 bytes) by the owner key over `data`. */
export function sign(key: OwnerKey, data: Uint8Array): Uint8Array {
  return new Uint8Array(edSign(null, data, key.privateKey))
}

/** Parsed public keys by their DER bytes: parsing a key costs as much as checking a signature with it. */
const keyCache = new Map<string, KeyObject>()
const KEY_CACHE_SIZE = 256

/**
 * Whether `signature` is a valid Ed25519 signature over `data` by the SPKI DER public key.
 * Anything that is not (a malformed or non-Ed25519 key, a signature of the wrong length)
 * is simply false: callers reject, they need not tell the cases apart.
 */
export function verify(publicKeyDer: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false
  const publicKey = parsedKey(publicKeyDer)
  return publicKey !== undefined && edVerify(null, data, publicKey, signature)
}

/** The Ed25519 key the DER bytes hold; kept parsed while among the last KEY_CACHE_SIZE keys parsed. */
function parsedKey(der: Uint8Array): KeyObject | undefined {
  const id = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64')
  let key = keyCache.get(id)
  if (key) return key
  try {
    key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' })
  } catch {
    return undefined
  }
  if (key.asymmetricKeyType !== 'ed25519') return undefined
  if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value as string)
  keyCache.set(id, key)
  return key
}
