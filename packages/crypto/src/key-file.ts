import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { chmod, type FileHandle, link, mkdir, open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { CryptoError, KeyFileError, KeyPermissionsError, PassphraseRequiredError } from './errors.js'
import { type OwnerKey, ownerKeyFromPem, ownerKeyToPem } from './owner-key.js'
import { isSealedOwnerKey, type ScryptParams, sealOwnerKey, unsealOwnerKey } from './sealed-key.js'

export interface SaveOwnerKeyOptions {
  /** Seal the key with this passphrase (scrypt + AES-256-GCM). Default: none, a plain PKCS#8 PEM. */
  passphrase?: string
  /** scrypt cost when sealing. Default `DEFAULT_SCRYPT_PARAMS`. */
  scrypt?: ScryptParams
  /** Replace an existing file. Default false: losing an owner key loses every object sealed with it. */
  overwrite?: boolean
}

export interface LoadOwnerKeyOptions {
  /** Needed when the file is sealed; ignored for a plain PEM. */
  passphrase?: string
}

/** A key file is small; anything larger is not one of ours and is refused before it is read. */
const MAX_KEY_FILE_BYTES = 64 * 1024

/**
 * Writes the key to `path` with mode 0600, atomically: a reader sees the old file, no file,
 * or the whole new one. Missing parent folders are created with mode 0700.
 */
export async function saveOwnerKey(
  path: string,
  key: OwnerKey,
  opts: SaveOwnerKeyOptions = {},
): Promise<void> {
  const text =
    opts.passphrase === undefined ? ownerKeyToPem(key) : await sealOwnerKey(key, opts.passphrase, opts.scrypt)
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const fh = await open(tmp, 'wx', 0o600)
    try {
      await fh.writeFile(text)
      await fh.sync()
    } finally {
      await fh.close()
    }
    // open's mode is filtered by the umask, which can only remove bits; chmod makes 0600 exact
    await chmod(tmp, 0o600)
    if (opts.overwrite === true) {
      await rename(tmp, path)
    } else {
      // link fails with EEXIST instead of replacing, so an existing key can never be clobbered
      await link(tmp, path)
      await unlink(tmp)
    }
    await syncDir(dir)
  } catch (err) {
    await unlink(tmp).catch(() => undefined)
    if (err instanceof CryptoError) throw err
    if (isErrno(err, 'EEXIST')) {
      throw new KeyFileError(
        path,
        `an owner key already exists at ${path}; refusing to replace it (pass overwrite: true if you mean to)`,
        { cause: err },
      )
    }
    throw new KeyFileError(path, `cannot write the owner key to ${path}: ${errMessage(err)}`, { cause: err })
  }
}

/**
 * Reads an owner key saved by `saveOwnerKey` (or any unencrypted PKCS#8 Ed25519 PEM).
 * Refuses a file that group or others may access, like ssh does.
 */
export async function loadOwnerKey(path: string, opts: LoadOwnerKeyOptions = {}): Promise<OwnerKey> {
  const text = await readKeyFile(path)
  if (!isSealedOwnerKey(text)) return ownerKeyFromPem(text, path)
  if (opts.passphrase === undefined) throw new PassphraseRequiredError(path)
  return unsealOwnerKey(text, opts.passphrase, path)
}

async function readKeyFile(path: string): Promise<string> {
  let fh: FileHandle
  try {
    // O_NONBLOCK: opening a FIFO planted at the path must not hang; fstat below rejects it
    fh = await open(path, process.platform === 'win32' ? 'r' : constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) {
      throw new KeyFileError(path, `no owner key at ${path}; create one (generateOwnerKey + saveOwnerKey)`, {
        cause: err,
      })
    }
    throw new KeyFileError(path, `cannot open the owner key ${path}: ${errMessage(err)}`, { cause: err })
  }
  try {
    // stat the open handle, not the path, so the checked file is the file read
    const st = await fh.stat()
    if (!st.isFile()) throw new KeyFileError(path, `${path} is not a regular file`)
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) throw new KeyPermissionsError(path, st.mode)
    if (st.size > MAX_KEY_FILE_BYTES) {
      throw new KeyFileError(path, `${path} is ${st.size} bytes, too large to be an owner key`)
    }
    return await fh.readFile('utf8')
  } catch (err) {
    if (err instanceof CryptoError) throw err
    throw new KeyFileError(path, `cannot read the owner key ${path}: ${errMessage(err)}`, { cause: err })
  } finally {
    await fh.close()
  }
}

async function syncDir(dir: string): Promise<void> {
  // fsync the folder too: the new name is only durable once the directory entry is
  if (process.platform === 'win32') return
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
