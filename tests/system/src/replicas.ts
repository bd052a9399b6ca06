import { readFile } from 'node:fs/promises'
import { ObjectInfoSchema } from '@cas/api'
import type { ClusterNode } from '@cas/test-kit'
import { type NodeOwner, replicaContentCid, replicaPath } from './store-files.js'

export type ReplicaState = 'ok' | 'missing' | 'corrupt'

/**
 * What `holder` really holds for `owner`'s object `cid`, read from its disk: the replica is found under
 * its locator, its object header skipped, its chunks checked against the owner's commit, decrypted and
 * checked against the manifest that hashes to the cid. Nothing here trusts what a node says about itself.
 */
export async function replicaState(
  holder: ClusterNode,
  owner: NodeOwner,
  cid: string,
): Promise<ReplicaState> {
  let file: Buffer
  try {
    file = await readFile(replicaPath(holder.home, owner, cid))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    throw err
  }
  // Object header: magic[4] | version u8 | key length u16be | key.
  if (file.length < 7) return 'corrupt'
  // The header's own key length, not the locator's: a damaged header makes the replica corrupt.
  const sealed = file.subarray(7 + file.readUInt16BE(5))
  return (await replicaContentCid(sealed, owner, cid)) === cid ? 'ok' : 'corrupt'
}

/** Holders the owner's catalogue lists for `cid` and currently sees connected. */
export async function liveHolders(owner: ClusterNode, cid: string): Promise<string[]> {
  const info = await owner.client.json(ObjectInfoSchema, 'GET', `/v1/objects/${cid}/stat`)
  return info.holders.filter((h) => h.live).map((h) => h.nodeId)
}
