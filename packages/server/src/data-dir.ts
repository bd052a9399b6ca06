import { randomBytes } from 'node:crypto'
import { chmod, mkdir, open, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { isAlive, readRuntimeInfo, readToken, TOKEN_FILE } from '@cas/api/runtime-info'
import { generateOwnerKey, loadOwnerKey, type OwnerKey, saveOwnerKey } from '@cas/crypto'
import { loadOrCreateNodeIdentity, type NodeIdentity } from '@cas/p2p'
import { DataDirError, NodeRunningError } from './errors.js'

/** `<home>/owner.key`: the owner's Ed25519 key, PKCS#8 PEM, mode 0600. */
export const OWNER_KEY_FILE = 'owner.key'

export interface DataDir {
  home: string
  ownerKey: OwnerKey
  identity: NodeIdentity
  token: string
  /** What this call created (first start). */
  created: { ownerKey: boolean; token: boolean }
}

export interface PrepareDataDirOptions {
  /** Seals a new owner key with it, and opens a sealed one. Default: none (a plain PKCS#8 PEM). */
  passphrase?: string
  /** Makes the owner key when the folder has none. Default `generateOwnerKey` (random). */
  createOwnerKey?: () => OwnerKey
  /**
   * Recovering an owner: this key is written when the folder has none, and a folder that holds
   * another owner's key is refused (`ERR_DATA_DIR`), never overwritten.
   */
  ownerKey?: OwnerKey
}

/**
 * Creates what a node needs in `home` on first use (owner key, node certificate, API token)
 * and loads it on every later one. Safe to call from `cas init` and from the daemon.
 */
export async function prepareDataDir(home: string, opts: PrepareDataDirOptions = {}): Promise<DataDir> {
  try {
    await mkdir(home, { recursive: true, mode: 0o700 })
    const info = await stat(home)
    if (!info.isDirectory()) throw new DataDirError(`${home} is not a directory`)
    // A folder made before (by hand, or by an older version) may be open to others: the keys, the
    // token and the catalogue (names, sizes) inside are this user's alone.
    if ((info.mode & 0o077) !== 0 && info.uid === process.getuid?.()) await chmod(home, 0o700)
  } catch (err) {
    if (err instanceof DataDirError) throw err
    throw new DataDirError(`cannot create the data directory ${home}: ${(err as Error).message}`, {
      cause: err,
    })
  }
  const keyPath = join(home, OWNER_KEY_FILE)
  let ownerKey: OwnerKey
  let keyCreated = false
  if (await exists(keyPath)) {
    ownerKey = await loadOwnerKey(
      keyPath,
      opts.passphrase !== undefined ? { passphrase: opts.passphrase } : {},
    )
    if (opts.ownerKey !== undefined && opts.ownerKey.ownerId !== ownerKey.ownerId) {
      throw new DataDirError(
        `${keyPath} holds the key of owner ${ownerKey.ownerId}, not of ${opts.ownerKey.ownerId} being recovered; ` +
          'recover into another folder (--home), or move that key away first (without it, its objects cannot be read)',
      )
    }
  } else {
    ownerKey = opts.ownerKey ?? (opts.createOwnerKey ?? generateOwnerKey)()
    await saveOwnerKey(
      keyPath,
      ownerKey,
      opts.passphrase !== undefined ? { passphrase: opts.passphrase } : {},
    )
    keyCreated = true
  }
  const identity = await loadOrCreateNodeIdentity(home)
  const { token, created } = await loadOrCreateToken(home)
  return { home, ownerKey, identity, token, created: { ownerKey: keyCreated, token: created } }
}

async function loadOrCreateToken(home: string): Promise<{ token: string; created: boolean }> {
  const path = join(home, TOKEN_FILE)
  const existing = await readToken(home)
  if (existing) {
    // Keep the secret private even if someone loosened its mode.
    await chmod(path, 0o600)
    return { token: existing, created: false }
  }
  const token = randomBytes(32).toString('base64url')
  try {
    // 'wx': two first starts racing must not overwrite each other's token.
    const file = await open(path, 'wx', 0o600)
    await file.writeFile(`${token}\n`)
    await file.sync()
    await file.close()
    return { token, created: true }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const raced = await readToken(home)
      if (raced) return { token: raced, created: false }
    }
    throw new DataDirError(`cannot write the API token ${path}: ${(err as Error).message}`, { cause: err })
  }
}

/** Refuses to start a second node on one data directory. */
export async function assertNotRunning(home: string): Promise<void> {
  const info = await readRuntimeInfo(home)
  if (info && info.pid !== process.pid && isAlive(info.pid)) throw new NodeRunningError(home, info.pid)
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw new DataDirError(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
}
