import type { Peer } from '@cas/p2p'
import type { PendingDelete } from '../catalogue.js'
import type { ServerContext } from '../context.js'
import type { HeldReplicas } from '../held-replicas.js'
import { verifyAction } from '../signatures.js'
import { type DeleteRequest, deleteResponseSchema } from './messages.js'

/**
 * The `delete` operation, both sides. The owner signs (ownerId, locator,
 * issuedAt); a holder checks the signature against the namespace, ignores a
 * delete issued before the replica it holds (a replayed old delete must not
 * remove a newer put), and keeps a tombstone so an older store cannot bring
 * the replica back.
 */

export interface DeleteDeps {
  ctx: ServerContext
  held: HeldReplicas
  /** Refuses a request issued too far in the future. */
  checkFresh: (issuedAt: number) => void
}

export async function handleDelete(deps: DeleteDeps, body: DeleteRequest): Promise<{ deleted: boolean }> {
  const { ctx, held } = deps
  verifyAction('delete', body)
  deps.checkFresh(body.issuedAt)
  return held.exclusive(body.ownerId, body.locator, async () => {
    const prev = ctx.catalogue.getHeld(body.ownerId, body.locator)
    // Nothing held: nothing to remove, and no tombstone, which anyone who can sign for a fresh owner
    // id could otherwise make this node write without end.
    if (!prev) return { deleted: false }
    if (body.issuedAt < prev.writtenAt) {
      ctx.logger.info(
        { ownerId: body.ownerId, locator: body.locator },
        'ignored a delete older than its replica',
      )
      return { deleted: false }
    }
    const deleted = await ctx.store.delete(body.locator, { namespace: body.ownerId })
    await ctx.catalogue.putTombstone(body.ownerId, body.locator, body.issuedAt)
    await ctx.catalogue.removeHeld(body.ownerId, body.locator)
    held.removed(body.ownerId, prev.size)
    return { deleted }
  })
}

/** Sends a signed delete; resolves with whether the peer removed a replica. */
export async function sendDelete(ctx: ServerContext, peer: Peer, entry: PendingDelete): Promise<boolean> {
  const body = {
    op: 'delete',
    ownerId: ctx.ownerId,
    locator: entry.locator,
    issuedAt: entry.issuedAt,
    ownerPub: ctx.ownerKey.publicKeyDer,
    sig: entry.sig,
  }
  const res = await peer.request(body, { timeout: ctx.fetchTimeout })
  return deleteResponseSchema.parse(res.body).deleted
}
