import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import {
  decryptIterable,
  deriveOwnerSecrets,
  fileKeys,
  loadOwnerKey,
  locatorOf,
  type OwnerSecrets,
  type Source,
} from '@cas/crypto'

/**
 * A node's store as files on disk (packages/store README): `<home>/store/<namespace>/<path>`, the
 * path being the SHA-1 of the key cut into 5-character folders, each file starting with
 * `"CASB" | version u8 | keyLength u16be | key`. The owner's plaintext sits in `self`, replicas held
 * for an owner in `<ownerId>` under the locator. Re-derived here on purpose: the suite checks the
 * documented layout, not whatever the code happens to do.
 */
export function objectPath(home: string, namespace: string, key: string): string {
  const digest = createHash('sha1').update(key).digest('hex')
  const folders = digest.match(/.{5}/g) ?? []
  return join(home, 'store', namespace, ...folders, digest)
}

/** Bytes before the content of an object file stored under `key`. */
export function headerLength(key: string): number {
  return 4 + 1 + 2 + Buffer.byteLength(key)
}

/** An object file's content without its header, or undefined when there is no file. */
export async function readContent(home: string, namespace: string, key: string): Promise<Buffer | undefined> {
  try {
    return (await readFile(objectPath(home, namespace, key))).subarray(headerLength(key))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

export async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

/** An owner as its holders see it: the namespace its replicas go to, and the secrets that name and seal them. */
export interface NodeOwner {
  ownerId: string
  secrets: OwnerSecrets
}

/** The owner secrets of a node, from `<home>/owner.key` (unsealed in tests): locators and file keys. */
export async function ownerSecretsOf(home: string): Promise<NodeOwner> {
  const key = await loadOwnerKey(join(home, 'owner.key'))
  return { ownerId: key.ownerId, secrets: deriveOwnerSecrets(key) }
}

/** Where `holderHome` keeps its replica of `owner`'s object `cid`: the owner's namespace, under the locator. */
export function replicaPath(holderHome: string, owner: NodeOwner, cid: string): string {
  return objectPath(holderHome, owner.ownerId, locatorOf(owner.secrets, cid))
}

/** Every object file in a namespace (any name: stray or partial files count too). */
export async function filesIn(home: string, namespace: string): Promise<string[]> {
  const out: string[] = []
  async function walk(dir: string): Promise<void> {
    let entries: import('node:fs').Dirent[]
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    for (const e of entries) {
      const p = join(dir, e.name)
      if (e.isDirectory()) await walk(p)
      else out.push(p)
    }
  }
  await walk(join(home, 'store', namespace))
  return out
}

/** Files in the store's `.tmp` folder (writes in progress), with their sizes. */
export async function temporaries(home: string): Promise<{ name: string; size: number }[]> {
  const dir = join(home, 'store', '.tmp')
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const out: { name: string; size: number }[] = []
  for (const name of names) {
    const info = await stat(join(dir, name)).catch(() => undefined)
    if (info) out.push({ name, size: info.size })
  }
  return out
}

/** The ways bits rot on a disk, as done here to an object file behind the node's back. */
export type Damage = 'flip' | 'truncate' | 'delete' | 'header'

/** Damages one object file; `rng` picks where. The file is rewritten in place (same inode). */
export async function damage(path: string, kind: Damage, key: string, rng: () => number): Promise<void> {
  if (kind === 'delete') {
    await rm(path)
    return
  }
  const info = await stat(path)
  const header = headerLength(key)
  const content = info.size - header
  if (kind === 'truncate') {
    await truncate(path, header + Math.floor(rng() * content))
    return
  }
  // 'flip': 1 to 8 random bits in the content; 'header': one bit of the magic, version or key.
  const handle = await open(path, 'r+')
  try {
    const flips = kind === 'header' ? 1 : 1 + Math.floor(rng() * 8)
    // Distinct bits: flipping one bit twice would undo the damage.
    const bits = new Set<number>()
    while (bits.size < flips) {
      const at = kind === 'header' ? Math.floor(rng() * header) : header + Math.floor(rng() * content)
      bits.add(at * 8 + Math.floor(rng() * 8))
    }
    for (const bit of bits) {
      const at = Math.floor(bit / 8)
      const byte = Buffer.alloc(1)
      await handle.read(byte, 0, 1, at)
      byte[0] = (byte[0] as number) ^ (1 << (bit % 8))
      await handle.write(byte, 0, 1, at)
    }
  } finally {
    await handle.close()
  }
}

/** The key recorded in an object file's header, or undefined when the header is not readable. */
export async function keyOf(path: string): Promise<string | undefined> {
  const handle = await open(path, 'r')
  try {
    const fixed = Buffer.alloc(7)
    await handle.read(fixed, 0, 7, 0)
    if (fixed.toString('latin1', 0, 4) !== 'CASB' || fixed[4] !== 1) return undefined
    const key = Buffer.alloc(fixed.readUInt16BE(5))
    const { bytesRead } = await handle.read(key, 0, key.length, 7)
    return bytesRead === key.length ? key.toString('utf8') : undefined
  } finally {
    await handle.close()
  }
}

/** SHA-256 of an object file's content (streamed: objects may be GiBs). */
export async function contentHash(path: string, key: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { start: headerLength(key) })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** SHA-256 of the plaintext a replica file decrypts to (every tag checked), or undefined if it does not. */
export async function replicaPlainHash(
  path: string,
  owner: { secrets: OwnerSecrets },
  cid: string,
): Promise<string | undefined> {
  return sealedPlainHash(
    createReadStream(path, { start: headerLength(locatorOf(owner.secrets, cid)) }),
    owner,
    cid,
  )
}

/**
 * SHA-256 of the plaintext that `sealed` (a replica's content, without its object header) decrypts to,
 * every tag checked; undefined when it does not decrypt or cannot be read.
 */
export async function sealedPlainHash(
  sealed: Source,
  owner: { secrets: OwnerSecrets },
  cid: string,
): Promise<string | undefined> {
  const { fileKey, fileMacKey } = fileKeys(owner.secrets, cid)
  const hash = createHash('sha256')
  try {
    for await (const chunk of decryptIterable(sealed, { fileKey, macKey: fileMacKey })) hash.update(chunk)
  } catch {
    return undefined
  }
  return hash.digest('hex')
}
