import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type ClusterNode, ObjectInfoSchema } from '@cas/cli'
import {
  decryptIterable,
  deriveOwnerSecrets,
  fileKeys,
  loadOwnerKey,
  locatorOf,
  type OwnerSecrets,
} from '@cas/crypto'

/** An owner's secrets, read from its node's home (`owner.key`, not sealed in these tests). */
export async function ownerOf(node: ClusterNode): Promise<{ ownerId: string; secrets: OwnerSecrets }> {
  const key = await loadOwnerKey(join(node.home, 'owner.key'))
  return { ownerId: key.ownerId, secrets: deriveOwnerSecrets(key) }
}

/** The store's file layout (packages/store): `<home>/store/<namespace>/<sha1 in 5-char folders>/<sha1>`. */
function storePath(home: string, namespace: string, key: string): string {
  const digest = createHash('sha1').update(key).digest('hex')
  const folders = digest.match(/.{1,5}/g) ?? []
  return join(home, 'store', namespace, ...folders, digest)
}

export type ReplicaState = 'ok' | 'missing' | 'corrupt'

/**
 * What `holder` really holds for `owner`'s object `cid`, read from its disk: the replica is found under
 * its locator, its object header skipped, its sealed stream decrypted with tag checks and the plaintext
 * hashed against the cid. Nothing here trusts what a node says about itself.
 */
export async function replicaState(
  holder: ClusterNode,
  owner: { ownerId: string; secrets: OwnerSecrets },
  cid: string,
): Promise<ReplicaState> {
  let file: Buffer
  try {
    file = await readFile(storePath(holder.home, owner.ownerId, locatorOf(owner.secrets, cid)))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    throw err
  }
  // Object header: magic[4] | version u8 | key length u16be | key.
  if (file.length < 7) return 'corrupt'
  const sealed = file.subarray(7 + file.readUInt16BE(5))
  const { fileKey, fileMacKey } = fileKeys(owner.secrets, cid)
  const hash = createHash('sha256')
  try {
    for await (const chunk of decryptIterable(sealed, { fileKey, macKey: fileMacKey })) hash.update(chunk)
  } catch {
    return 'corrupt'
  }
  return hash.digest('hex') === cid ? 'ok' : 'corrupt'
}

/** Holders the owner's catalogue lists for `cid` and currently sees connected. */
export async function liveHolders(owner: ClusterNode, cid: string): Promise<string[]> {
  const info = await owner.client.json(ObjectInfoSchema, 'GET', `/v1/objects/${cid}/stat`)
  return info.holders.filter((h) => h.live).map((h) => h.nodeId)
}
