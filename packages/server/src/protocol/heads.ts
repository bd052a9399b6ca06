import type { Peer } from '@cas/p2p'
import { MAX_HEADS_PER_OWNER, type SignedHead, verifyHead } from '../catalogue-head.js'
import type { ServerContext } from '../context.js'
import { BadRequestError } from '../errors.js'
import { chargeOf } from '../held-replicas.js'
import type { DeleteDeps } from './delete.js'
import { type HeadRequest, type HeadsRequest, headResponseSchema, headsResponseSchema } from './messages.js'

/**
 * The `head` and `heads` operations, both sides. A holder keeps, for each owner, the newest
 * owner-signed head of each of its devices (at most MAX_HEADS_PER_OWNER), charged against its
 * quotas like a replica, and hands them all back to whoever asks for that owner: they are sealed
 * for the owner, so only its own nodes can read them.
 */

/** What an owner-signed request needs on the holder: the same as a delete. */
export type HeadDeps = DeleteDeps

export async function handleHead(deps: HeadDeps, body: HeadRequest): Promise<{ stored: boolean }> {
  const { ctx, held } = deps
  const head = detached(body)
  verifyHead(head)
  deps.checkFresh(head.seq)
  return held.exclusive(head.ownerId, `head/${head.headId}`, async () => {
    const prev = ctx.catalogue.getHead(head.ownerId, head.headId)
    if (prev && prev.seq >= head.seq) return { stored: false }
    if (!prev && ctx.catalogue.headsOf(head.ownerId).length >= MAX_HEADS_PER_OWNER) {
      throw new BadRequestError(`an owner has at most ${MAX_HEADS_PER_OWNER} catalogue heads on a holder`)
    }
    const charge = chargeOf(head.box.byteLength)
    held.reserve(head.ownerId, charge)
    try {
      await ctx.catalogue.putHead(head)
    } catch (err) {
      held.release(head.ownerId, charge)
      throw err
    }
    if (prev) held.release(head.ownerId, chargeOf(prev.box.byteLength))
    return { stored: true }
  })
}

export function handleHeads(ctx: ServerContext, body: HeadsRequest): { heads: SignedHead[] } {
  return { heads: ctx.catalogue.headsOf(body.ownerId) }
}

/** Sends a head; resolves with whether the peer took it (false: it holds this one or a newer). */
export async function sendHead(ctx: ServerContext, peer: Peer, head: SignedHead): Promise<boolean> {
  const res = await peer.request({ op: 'head', ...head }, { timeout: ctx.fetchTimeout })
  return headResponseSchema.parse(res.body).stored
}

/** The heads a peer holds for this node's owner, each checked against the owner's signature. */
export async function askHeads(ctx: ServerContext, peer: Peer): Promise<SignedHead[]> {
  const res = await peer.request({ op: 'heads', ownerId: ctx.ownerId }, { timeout: ctx.fetchTimeout })
  const heads: SignedHead[] = []
  for (const h of headsResponseSchema.parse(res.body).heads) {
    if (h.ownerId !== ctx.ownerId) continue
    const head = detached(h)
    try {
      verifyHead(head)
    } catch {
      continue // a holder that serves a head the owner did not sign is not believed
    }
    heads.push(head)
  }
  return heads
}

/**
 * The head's own fields, copied out of the decoded frame (msgpack binary fields are views into it),
 * without the request's `op`: what is stored and served back.
 */
function detached(h: SignedHead): SignedHead {
  return {
    ownerId: h.ownerId,
    headId: h.headId,
    seq: h.seq,
    box: new Uint8Array(h.box),
    ownerPub: new Uint8Array(h.ownerPub),
    sig: new Uint8Array(h.sig),
  }
}
