import { locatorOf, ObjectOpener, openObjectKey } from '@cas/crypto'
import type { ServerContext } from './context.js'
import { readChunks, readReplicaHead } from './object/replica-file.js'
import { dropDamaged, replicaFailure, stillDamaged } from './protocol/fetch.js'

/**
 * Checks every local object down to each chunk's plaintext hash (the owner's
 * own and those read through capabilities): every object the store lists, and
 * every catalogued object with a file in place, so one whose header is
 * damaged (which `list` cannot name) is reported too.
 */
export async function verifyLocal(ctx: ServerContext): Promise<{ checked: number; damaged: string[] }> {
  const self = { namespace: 'self' }
  const cids = new Set<string>()
  for await (const cid of ctx.store.list('self')) cids.add(cid)
  for (const rec of ctx.catalogue.objects()) {
    if (!cids.has(rec.cid) && (await ctx.store.has(rec.cid, self))) cids.add(rec.cid)
  }
  let checked = 0
  const damaged: string[] = []
  for (const cid of cids) {
    try {
      const head = await readReplicaHead(ctx.store, 'self', cid)
      const rec = ctx.catalogue.getObject(cid)
      const key = rec?.shared
        ? rec.objectKey
        : openObjectKey(ctx.secrets, head.signed.commit.keyBox, locatorOf(ctx.secrets, cid))
      if (!key) throw new Error('no key for a shared object')
      const opener = new ObjectOpener(key, head.signed.commit.manifestBox, cid)
      const last = opener.chunkCount - 1
      for await (const { index, ciphertext } of readChunks(ctx.store, 'self', cid, head, 0, last)) {
        opener.open(index, ciphertext)
      }
    } catch {
      damaged.push(cid)
    }
    checked++
  }
  return { checked, damaged }
}

/**
 * Checks every replica held for other owners against its commit, with no key;
 * a damaged one is removed so that `has` answers no and its owner sends it again.
 */
export async function verifyHeld(ctx: ServerContext): Promise<{ checked: number; removed: number }> {
  let checked = 0
  let removed = 0
  for (const { ownerId, locator, rec } of [...ctx.catalogue.held()]) {
    checked++
    let digest = rec.digest
    try {
      const head = await readReplicaHead(ctx.store, ownerId, locator)
      digest = head.signed.digest
      const why = await replicaFailure(ctx, ownerId, locator, head)
      if (why !== undefined) throw new Error(why)
    } catch (err) {
      // A store may have replaced the file while it was read: drop only what still fails, read afresh.
      if (digest !== undefined && !(await stillDamaged(ctx, ownerId, locator, digest))) continue
      removed++
      await dropDamaged(ctx, ownerId, locator, err instanceof Error ? err.message : String(err))
    }
  }
  return { checked, removed }
}
