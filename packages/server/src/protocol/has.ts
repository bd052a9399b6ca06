import type { Peer } from '@cas/p2p'
import type { ServerContext } from '../context.js'
import { type HasRequest, hasResponseSchema } from './messages.js'

/**
 * The `has` operation, both sides: whether a peer holds replicas, by locator.
 * A holder answers yes only for a replica it stored after checking it against
 * the owner's commit and has not since found damaged.
 */

export async function handleHas(ctx: ServerContext, body: HasRequest): Promise<{ present: boolean[] }> {
  const present = await Promise.all(
    body.locators.map(
      async (locator) =>
        ctx.catalogue.getHeld(body.ownerId, locator) !== undefined &&
        (await ctx.store.has(locator, { namespace: body.ownerId })),
    ),
  )
  return { present }
}

/** Asks a peer about up to MAX_HAS_LOCATORS replicas of this owner; one answer per locator, in order. */
export async function askHas(
  ctx: ServerContext,
  peer: Peer,
  locators: string[],
  signal?: AbortSignal,
): Promise<boolean[]> {
  const res = await peer.request(
    { op: 'has', ownerId: ctx.ownerId, locators },
    signal ? { timeout: ctx.fetchTimeout, signal } : { timeout: ctx.fetchTimeout },
  )
  return hasResponseSchema.parse(res.body).present
}
