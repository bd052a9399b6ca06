import { createDecipheriv, createHash } from 'node:crypto'
import { open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import {
  cidOfManifest,
  deriveOwnerSecrets,
  loadOwnerKey,
  locatorOf,
  ObjectOpener,
  type OwnerSecrets,
  objectSubkeys,
  openObjectKey,
} from '@cas/crypto'

/**
 * A node's store as files on disk (packages/store README): `<home>/store/<namespace>/<path>`, the
 * path being the SHA-1 of the key cut into 5-character folders, each file starting with
 * `"CASB" | version u8 | keyLength u16be | key`. The owner's plaintext sits in `self`, replicas held
 * for an owner in `<ownerId>` under the locator. Re-derived here on purpose: the suite checks the
 * documented layout, not whatever the code happens to do.
 */
/**
 * Node flags for suites that read or damage object files on disk: every object gets a file of its
 * own (small ones would otherwise be records in the store's packs, `<home>/store/.packs`).
 */
export const FILES_ON_DISK_ARGS = ['--pack-below', '0'] as const

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

/**
 * A replica file's content (packages/server README, docs/decisions.md "Object format 2"):
 * `chunks | signed commit | u32be length | "CAS2"`, the signed commit being
 * `u32be commitLength | commit | u16be pubLength | ownerPub | u16be sigLength | sig | batch proof` and the commit
 * `"CASC" | 2 | ownerId[32] | locator[32] | issuedAt u64be | count u32be | (length u32be | sha256[32])
 * × count | keyBox[60] | manifestBoxLength u32be | manifestBox`. Parsed here on purpose, from the
 * documented layout; decrypted with @cas/crypto's format 2 primitives.
 */
type ReadRange = (start: number, end: number) => Promise<Buffer>

/**
 * The cid the replica content opens to, with the owner's secrets, every chunk checked against the
 * manifest and every ciphertext against the commit; undefined when it does not open or verify.
 * With no `cid` given, the cid is the one its manifest hashes to (a replica of an object the caller
 * never learnt of, such as a catalogue segment of a put cut short), and its locator must match it.
 */
async function replicaCid(
  read: ReadRange,
  size: number,
  owner: { secrets: OwnerSecrets },
  given: string | undefined,
): Promise<string | undefined> {
  try {
    if (size < 8) return undefined
    const footer = await read(size - 8, size)
    if (footer.toString('latin1', 4) !== 'CAS2') return undefined
    const signedLen = footer.readUInt32BE(0)
    const dataEnd = size - 8 - signedLen
    if (dataEnd < 0) return undefined
    const signed = await read(dataEnd, size - 8)
    const commit = signed.subarray(4, 4 + signed.readUInt32BE(0))
    if (commit.toString('latin1', 0, 4) !== 'CASC' || commit[4] !== 2) return undefined
    const locator = commit.subarray(37, 69).toString('hex')
    const count = commit.readUInt32BE(77)
    const boxAt = 81 + count * 36
    const keyBox = commit.subarray(boxAt, boxAt + 60)
    const manifestBox = commit.subarray(boxAt + 64, boxAt + 64 + commit.readUInt32BE(boxAt + 60))
    const objectKey = openObjectKey(owner.secrets, keyBox, locator)
    const cid = given ?? manifestCid(objectKey, manifestBox)
    if (locator !== locatorOf(owner.secrets, cid)) return undefined
    const opener = new ObjectOpener(objectKey, manifestBox, cid)
    let at = 0
    for (let i = 0; i < count; i++) {
      const length = commit.readUInt32BE(81 + i * 36)
      const ciphertext = await read(at, at + length)
      const hash = createHash('sha256').update(ciphertext).digest()
      if (!hash.equals(commit.subarray(85 + i * 36, 117 + i * 36))) return undefined
      opener.open(i, ciphertext)
      at += length
    }
    return at === dataEnd ? cid : undefined
  } catch {
    return undefined
  }
}

/** The cid a sealed manifest (`manifest key | AES-256-GCM, zero IV | tag[16]`) hashes to. */
function manifestCid(objectKey: Uint8Array, box: Buffer): string {
  const decipher = createDecipheriv('aes-256-gcm', objectSubkeys(objectKey).manifestKey, Buffer.alloc(12))
  decipher.setAuthTag(box.subarray(box.length - 16))
  return cidOfManifest(Buffer.concat([decipher.update(box.subarray(0, box.length - 16)), decipher.final()]))
}

/** The cid a replica file (the owner's own in `self`, or a holder's) opens to, or undefined. */
export async function replicaFileCid(
  path: string,
  key: string,
  owner: { secrets: OwnerSecrets },
  cid: string | undefined,
): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(path, 'r')
  } catch {
    return undefined
  }
  try {
    const header = headerLength(key)
    const size = (await handle.stat()).size - header
    const read: ReadRange = async (start, end) => {
      const buf = Buffer.alloc(end - start)
      const { bytesRead } = await handle.read(buf, 0, buf.length, header + start)
      return buf.subarray(0, bytesRead)
    }
    return await replicaCid(read, size, owner, cid)
  } finally {
    await handle.close()
  }
}

/** The cid a replica's content (the object file without its header) opens to, or undefined. */
export async function replicaContentCid(
  content: Buffer,
  owner: { secrets: OwnerSecrets },
  cid: string | undefined,
): Promise<string | undefined> {
  return replicaCid(async (start, end) => content.subarray(start, end), content.length, owner, cid)
}
