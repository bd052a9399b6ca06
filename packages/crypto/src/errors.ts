/** Base of every error this package throws. Callers branch on `code`, which survives two copies of the package. */
export class CryptoError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Why a sealed stream was rejected; for logs and tests, not for security decisions. */
export type IntegrityReason =
  | 'header' // bad magic, unknown version or an impossible chunk size
  | 'chunk-size' // a chunk size above the reader's `maxChunkSize`
  | 'tag' // a chunk whose tag does not match: tampering, reordering or the wrong key
  | 'truncated' // the stream ended before its final chunk
  | 'key' // a sealed object key that does not open with this owner key for this object
  | 'manifest' // a manifest that does not open, does not parse, or does not hash to its cid
  | 'chunk' // a format 2 chunk whose plaintext does not hash to the manifest's entry

/**
 * A sealed stream failed verification. Nothing from the failing chunk on was emitted;
 * a consumer must discard the whole object.
 */
export class IntegrityError extends CryptoError {
  constructor(
    readonly reason: IntegrityReason,
    message: string,
  ) {
    super('ERR_INTEGRITY', message)
  }
}

/** A key file is missing, unreadable, not a key this package wrote, or would be overwritten. */
export class KeyFileError extends CryptoError {
  constructor(
    readonly path: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super('ERR_KEY_FILE', message, options)
  }
}

/** A passphrase-sealed key file did not open with the passphrase given. */
export class WrongPassphraseError extends CryptoError {
  constructor(readonly path: string | undefined) {
    super(
      'ERR_WRONG_PASSPHRASE',
      `the passphrase does not open the owner key${path === undefined ? '' : ` in ${path}`} ` +
        '(or the sealed key was altered); try again with the passphrase it was saved with',
    )
  }
}

/** A key file is sealed with a passphrase and none was given. */
export class PassphraseRequiredError extends CryptoError {
  constructor(readonly path: string | undefined) {
    super(
      'ERR_PASSPHRASE_REQUIRED',
      `the owner key${path === undefined ? '' : ` in ${path}`} is sealed with a passphrase; pass it to load the key`,
    )
  }
}

/** A private key file that users other than its owner may read or write. */
export class KeyPermissionsError extends CryptoError {
  constructor(
    readonly path: string,
    readonly mode: number,
  ) {
    super(
      'ERR_KEY_PERMISSIONS',
      `the owner key ${path} has mode ${(mode & 0o777).toString(8).padStart(3, '0')} and others may read it; ` +
        `run \`chmod 600 ${path}\` (and consider the key exposed if others did read it)`,
    )
  }
}

/** An argument of the wrong shape: a key of the wrong length, a malformed cid, a bad chunk size. */
export class InvalidArgumentError extends CryptoError {
  constructor(message: string) {
    super('ERR_INVALID_ARGUMENT', message)
  }
}

/** A recovery phrase with an unknown word, the wrong number of words or a checksum that does not match. */
export class InvalidRecoveryPhraseError extends CryptoError {
  constructor(readonly problem: string) {
    super('ERR_INVALID_RECOVERY_PHRASE', `not a valid recovery phrase: ${problem}`)
  }
}

/** The seal thread stopped (it failed, or was closed) before it hashed a chunk it was given. */
export class SealThreadError extends CryptoError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_SEAL_THREAD', message, options)
  }
}
