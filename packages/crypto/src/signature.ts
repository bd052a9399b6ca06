import { createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto'
import type { OwnerKey } from './owner-key.js'

const SIGNATURE_BYTES = 64

/** An Ed25519 signature (64 bytes) by the owner key over `data`. */
export function sign(key: OwnerKey, data: Uint8Array): Uint8Array {
  return new Uint8Array(edSign(null, data, key.privateKey))
}

/**
 * Whether `signature` is a valid Ed25519 signature over `data` by the SPKI DER public key.
 * Anything that is not (a malformed or non-Ed25519 key, a signature of the wrong length)
 * is simply false: callers reject, they need not tell the cases apart.
 */
export function verify(publicKeyDer: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false
  let publicKey: KeyObject
  try {
    publicKey = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' })
  } catch {
    return false
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') return false
  return edVerify(null, data, publicKey, signature)
}
