import { createHmac } from 'node:crypto'
import { InvalidArgumentError } from './errors.js'
import { hkdf32 } from './hkdf.js'
import type { OwnerKey } from './owner-key.js'

/** The owner's symmetric secrets; derive them with `deriveOwnerSecrets`, never store them. */
export interface OwnerSecrets {
  /** Root of every object's `fileKey`. */
  encKey: Uint8Array
  /** Root of every object's `fileMacKey`. */
  macKey: Uint8Array
  /** Keys `locatorOf`: the name a replica goes by on a peer. */
  locKey: Uint8Array
}

/** HKDF `info` labels. Part of the format: changing one changes every derived key. */
export const DERIVE_LABELS = Object.freeze({
  enc: 'cas/enc',
  mac: 'cas/mac',
  loc: 'cas/loc',
  file: 'cas/file',
  fileMac: 'cas/file-mac',
})

const CID = /^[0-9a-f]{64}$/

/**
 * HKDF-SHA256 from the Ed25519 seed, one label per key. Deterministic: the same owner key on
 * any machine gives the same secrets.
 */
export function deriveOwnerSecrets(key: OwnerKey): OwnerSecrets {
  const seed = ed25519Seed(key)
  return {
    encKey: hkdf32(seed, DERIVE_LABELS.enc),
    macKey: hkdf32(seed, DERIVE_LABELS.mac),
    locKey: hkdf32(seed, DERIVE_LABELS.loc),
  }
}

/**
 * The two per-object keys of one cid. Handing them out (a capability) opens and verifies
 * that object only: HKDF is one-way, so they reveal nothing of `encKey`, `macKey` or other objects.
 */
export function fileKeys(
  secrets: OwnerSecrets,
  cid: string,
): { fileKey: Uint8Array; fileMacKey: Uint8Array } {
  checkCid(cid)
  return {
    fileKey: hkdf32(secrets.encKey, DERIVE_LABELS.file + cid),
    fileMacKey: hkdf32(secrets.macKey, DERIVE_LABELS.fileMac + cid),
  }
}

/** HMAC-SHA256(locKey, cid) as hex: a stable name for the replica that reveals nothing of the cid. */
export function locatorOf(secrets: OwnerSecrets, cid: string): string {
  checkCid(cid)
  return createHmac('sha256', secrets.locKey).update(cid).digest('hex')
}

function ed25519Seed(key: OwnerKey): Buffer {
  const jwk = key.privateKey.export({ format: 'jwk' })
  if (jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string') {
    throw new InvalidArgumentError('owner secrets derive from an Ed25519 private key only')
  }
  return Buffer.from(jwk.d, 'base64url')
}

function checkCid(cid: string): void {
  // the exact spelling matters: an upper-case cid would derive other keys and miss the object
  if (!CID.test(cid))
    throw new InvalidArgumentError(`a cid is 64 lowercase hex characters, got "${cid.slice(0, 80)}"`)
}
