export { chunkIv, cryptChunk } from './chunk-cipher.js'
export { CidHasher, cidOf } from './cid-hasher.js'
export { DERIVE_LABELS, deriveOwnerSecrets, fileKeys, locatorOf, type OwnerSecrets } from './derive.js'
export {
  CryptoError,
  IntegrityError,
  type IntegrityReason,
  InvalidArgumentError,
  InvalidRecoveryPhraseError,
  KeyFileError,
  KeyPermissionsError,
  PassphraseRequiredError,
  SealThreadError,
  WrongPassphraseError,
} from './errors.js'
export { type LoadOwnerKeyOptions, loadOwnerKey, type SaveOwnerKeyOptions, saveOwnerKey } from './key-file.js'
export {
  chunksOfRange,
  cidOfManifest,
  decodeManifest,
  encodeManifest,
  MANIFEST_VERSION,
  MAX_OBJECT_CHUNK_SIZE,
  type Manifest,
  type ManifestChunk,
  OBJECT_CHUNK_SIZE,
  openManifest,
  sealedManifestSize,
  sealManifest,
} from './manifest.js'
export {
  KEY_BOX_BYTES,
  newObjectKey,
  OBJECT_KEY_BYTES,
  OBJECT_LABELS,
  type ObjectSubkeys,
  objectSubkeys,
  openObjectKey,
  sealObjectKey,
} from './object-key.js'
export { ObjectOpener } from './object-opener.js'
export {
  ObjectSealer,
  type ObjectSealerOptions,
  type SealedChunk,
  type SealedObject,
} from './object-sealer.js'
export {
  generateOwnerKey,
  type OwnerKey,
  ownerIdOf,
  ownerKeyFromPem,
  ownerKeyFromPrivateKey,
  ownerKeyToPem,
} from './owner-key.js'
export { freshRandom } from './random-pool.js'
export {
  newRecoveryPhrase,
  normalizeRecoveryPhrase,
  ownerKeyFromRecoveryPhrase,
  RECOVERY_PHRASE_WORDS,
} from './recovery-phrase.js'
export { seal, unseal } from './seal.js'
export { SealThread } from './seal-thread.js'
export {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MAX_CHUNK_SIZE,
  FORMAT_VERSION,
  HEADER_BYTES,
  MAX_CHUNK_SIZE,
  type OpenOptions,
  plainSizeOf,
  type SealOptions,
  type StreamKeys,
  sealedSize,
  TAG_BYTES,
} from './sealed-format.js'
export { decryptIterable, encryptIterable, type IterableOptions } from './sealed-iterables.js'
export {
  DEFAULT_SCRYPT_PARAMS,
  isSealedOwnerKey,
  MAX_SCRYPT_MEMORY,
  type ScryptParams,
  sealedOwnerIdOf,
  sealOwnerKey,
  unsealOwnerKey,
} from './sealed-key.js'
export { createDecryptStream, createEncryptStream } from './sealed-streams.js'
export { sign, verify } from './signature.js'
export type { Source } from './source.js'
export { ThreadedSealer, type ThreadedSealerOptions } from './threaded-sealer.js'
