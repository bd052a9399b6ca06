/** Base of every error this package throws. Callers branch on `code`, which survives duplicate copies of the package. */
export class StoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

export class NotFoundError extends StoreError {
  constructor(
    readonly key: string,
    readonly namespace: string,
  ) {
    super('ERR_NOT_FOUND', `no object ${JSON.stringify(key)} in namespace ${JSON.stringify(namespace)}`)
  }
}

export class InvalidKeyError extends StoreError {
  constructor(reason: string) {
    super('ERR_INVALID_KEY', `invalid key: ${reason}`)
  }
}

export class InvalidNamespaceError extends StoreError {
  constructor(namespace: unknown) {
    super(
      'ERR_INVALID_NAMESPACE',
      `invalid namespace ${JSON.stringify(String(namespace)).slice(0, 80)}: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    )
  }
}

export class InvalidRangeError extends StoreError {
  constructor(start: number | undefined, end: number | undefined) {
    super(
      'ERR_INVALID_RANGE',
      `invalid range start=${start} end=${end}: both must be integers >= 0 with start <= end`,
    )
  }
}

export class DiskFullError extends StoreError {
  constructor(root: string, cause: unknown) {
    super('ERR_DISK_FULL', `no space left on the device holding ${root}; free space or move the store`, {
      cause,
    })
  }
}

/** The file on disk is not an object this store wrote (damaged header, stray file). */
export class CorruptObjectError extends StoreError {
  constructor(path: string, reason: string) {
    super('ERR_CORRUPT_OBJECT', `object file ${path} is damaged: ${reason}`)
  }
}

export class StoreIOError extends StoreError {
  constructor(operation: string, path: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause)
    super('ERR_STORE_IO', `${operation} failed on ${path}: ${detail}`, { cause })
  }
}

/**
 * Maps a raw fs error to a typed one (disk full keeps its own code). Errors that did not come from the file
 * system, such as a failing source or an abort, reach the caller unchanged.
 */
export function toStoreError(operation: string, path: string, root: string, err: unknown): Error {
  if (err instanceof StoreError) return err
  const errno = err as NodeJS.ErrnoException | undefined
  if (errno?.code === 'ENOSPC' || errno?.code === 'EDQUOT') return new DiskFullError(root, err)
  if (err instanceof Error && typeof errno?.syscall !== 'string') return err
  return new StoreIOError(operation, path, err)
}
