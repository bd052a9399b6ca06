import { createCipheriv, createDecipheriv } from 'node:crypto'
import type { OwnerSecrets } from './derive.js'
import { IntegrityError, InvalidArgumentError } from './errors.js'
import { hkdf32, hkdfExpand32, hkdfExtract } from './hkdf.js'
import { freshRandom } from './random-pool.js'

/**
 * Format 2 keys. Every put draws a fresh random object key, so a put can
 * encrypt its first chunk before it has read its last byte (the cid is not
 * known yet), no key or IV is ever used for two objects, and a capability
 * (which carries the object key) cannot open a later re-upload of the same
 * bytes. The owner finds the key again in the replica itself: it is sealed
 * there under a wrap key that only the owner key derives.
 */
export const OBJECT_KEY_BYTES = 32
/** Bytes of a sealed object key: iv[12] | ciphertext[32] | GCM tag[16]. */
export const KEY_BOX_BYTES = 12 + OBJECT_KEY_BYTES + 16

/** HKDF `info` labels of format 2. Part of the format: changing one changes every key. */
export const OBJECT_LABELS = Object.freeze({
  chunk: 'cas/2/chunk',
  manifest: 'cas/2/manifest',
  wrap: 'cas/2/key-wrap',
  keyBox: 'cas/2/key-box',
})

export interface ObjectSubkeys {
  /** AES-256-CTR key of every chunk of the object. */
  chunkKey: Buffer
  /** AES-256-GCM key of the object's manifest, used once. */
  manifestKey: Buffer
}

/** A fresh random object key; one per put. */
export function newObjectKey(): Buffer {
  return freshRandom(OBJECT_KEY_BYTES)
}

export function objectSubkeys(objectKey: Uint8Array): ObjectSubkeys {
  checkObjectKey(objectKey)
  // Both are HKDF(objectKey, label): one extract serves the two expands.
  const prk = hkdfExtract(objectKey)
  return {
    chunkKey: hkdfExpand32(prk, OBJECT_LABELS.chunk),
    manifestKey: hkdfExpand32(prk, OBJECT_LABELS.manifest),
  }
}

/**
 * The object key sealed for its owner (AES-256-GCM under HKDF(encKey, "cas/2/key-wrap"), a random
 * IV, the locator as additional data): a new machine holding only the owner key opens it, and a
 * box moved to another object's replica does not open.
 */
export function sealObjectKey(secrets: OwnerSecrets, objectKey: Uint8Array, locator: string): Buffer {
  checkObjectKey(objectKey)
  const iv = freshRandom(12)
  const cipher = createCipheriv('aes-256-gcm', wrapKeyOf(secrets), iv)
  cipher.setAAD(keyBoxAad(locator))
  const body = Buffer.concat([cipher.update(objectKey), cipher.final()])
  return Buffer.concat([iv, body, cipher.getAuthTag()])
}

/** The object key from its box, or an IntegrityError ('key') for another owner's box, another locator's, or a tampered one. */
export function openObjectKey(secrets: OwnerSecrets, keyBox: Uint8Array, locator: string): Buffer {
  if (keyBox.byteLength !== KEY_BOX_BYTES) {
    throw new IntegrityError('key', `a sealed object key is ${KEY_BOX_BYTES} bytes, got ${keyBox.byteLength}`)
  }
  const box = Buffer.from(keyBox.buffer, keyBox.byteOffset, keyBox.byteLength)
  try {
    const decipher = createDecipheriv('aes-256-gcm', wrapKeyOf(secrets), box.subarray(0, 12))
    decipher.setAAD(keyBoxAad(locator))
    decipher.setAuthTag(box.subarray(12 + OBJECT_KEY_BYTES))
    return Buffer.concat([decipher.update(box.subarray(12, 12 + OBJECT_KEY_BYTES)), decipher.final()])
  } catch {
    throw new IntegrityError('key', 'the sealed object key does not open with this owner key for this object')
  }
}

/** Wrap keys by the secrets they come from: one per owner, needed by every put and get. */
const wrapKeys = new WeakMap<OwnerSecrets, Buffer>()

function wrapKeyOf(secrets: OwnerSecrets): Buffer {
  let key = wrapKeys.get(secrets)
  if (!key) {
    key = hkdf32(secrets.encKey, OBJECT_LABELS.wrap)
    wrapKeys.set(secrets, key)
  }
  return key
}

function keyBoxAad(locator: string): Buffer {
  return Buffer.from(`${OBJECT_LABELS.keyBox}\n${locator}`, 'utf8')
}

export function checkObjectKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.byteLength !== OBJECT_KEY_BYTES) {
    throw new InvalidArgumentError(`an object key must be a ${OBJECT_KEY_BYTES}-byte Uint8Array`)
  }
}
