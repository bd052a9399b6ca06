import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto'
import { InvalidArgumentError, KeyFileError, PassphraseRequiredError } from './errors.js'

/** An owner's Ed25519 key pair and the id derived from its public half. */
export interface OwnerKey {
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  /** The public key as SPKI DER: what peers see and verify against. */
  readonly publicKeyDer: Uint8Array
  /** SHA-256 of `publicKeyDer`, 64 lowercase hex. */
  readonly ownerId: string
}

const PRIVATE_KEY_PEM_LABEL = 'PRIVATE KEY'
export const SEALED_KEY_PEM_LABEL = 'CAS SEALED PRIVATE KEY'

/** The owner id of a public key: SHA-256 of its SPKI DER, hex. */
export function ownerIdOf(publicKeyDer: Uint8Array): string {
  return createHash('sha256').update(publicKeyDer).digest('hex')
}

/** Makes a fresh owner key from the operating system's random source. */
export function generateOwnerKey(): OwnerKey {
  const { privateKey } = generateKeyPairSync('ed25519')
  return ownerKeyFromPrivateKey(privateKey)
}

/** Wraps an Ed25519 private `KeyObject`; anything else is an `InvalidArgumentError`. */
export function ownerKeyFromPrivateKey(privateKey: KeyObject): OwnerKey {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new InvalidArgumentError(
      `an owner key must be an Ed25519 private key, got ${privateKey.type} ${privateKey.asymmetricKeyType ?? 'key'}`,
    )
  }
  const publicKey = createPublicKey(privateKey)
  const publicKeyDer = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }))
  return Object.freeze({ privateKey, publicKey, publicKeyDer, ownerId: ownerIdOf(publicKeyDer) })
}

/** The private key as unencrypted PKCS#8 PEM (readable by `openssl pkey`). Keep it secret. */
export function ownerKeyToPem(key: OwnerKey): string {
  return key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
}

/** Reads an unencrypted PKCS#8 PEM Ed25519 key; a sealed key needs `loadOwnerKey` with a passphrase. */
export function ownerKeyFromPem(pem: string, path?: string): OwnerKey {
  if (pem.includes(`-----BEGIN ${SEALED_KEY_PEM_LABEL}-----`)) throw new PassphraseRequiredError(path)
  if (!pem.includes(`-----BEGIN ${PRIVATE_KEY_PEM_LABEL}-----`)) {
    throw new KeyFileError(
      path,
      `${where(path)} holds no PKCS#8 PEM private key (no "BEGIN PRIVATE KEY" line); point to the owner key file, or restore it from a backup`,
    )
  }
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' })
  } catch (cause) {
    throw new KeyFileError(
      path,
      `${where(path)} holds a damaged private key that cannot be parsed; restore it from a backup`,
      {
        cause,
      },
    )
  }
  return ownerKeyFromDerivedObject(privateKey, path)
}

/** Reads an unencrypted PKCS#8 DER Ed25519 key (the inside of a sealed key file). */
export function ownerKeyFromPkcs8Der(der: Uint8Array, path?: string): OwnerKey {
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' })
  } catch (cause) {
    throw new KeyFileError(
      path,
      `${where(path)} holds a damaged private key that cannot be parsed; restore it from a backup`,
      {
        cause,
      },
    )
  }
  return ownerKeyFromDerivedObject(privateKey, path)
}

function ownerKeyFromDerivedObject(privateKey: KeyObject, path: string | undefined): OwnerKey {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new KeyFileError(
      path,
      `${where(path)} holds an ${privateKey.asymmetricKeyType ?? 'unknown'} key; an owner key must be Ed25519`,
    )
  }
  return ownerKeyFromPrivateKey(privateKey)
}

function where(path: string | undefined): string {
  return path === undefined ? 'the PEM text' : `the key file ${path}`
}
