import type { IncomingRequest, RequestHandler } from '@cas/p2p'
import type { ServerContext } from './context.js'
import type { Discovery } from './discovery.js'
import { BadRequestError, errorCode, UnauthorizedError } from './errors.js'
import type { HeldReplicas } from './held-replicas.js'
import { type DeleteRequest, type HasRequest, requestSchema } from './messages.js'
import { handleFetch } from './protocol/fetch.js'
import { handleStore } from './protocol/store.js'
import { verifyAction } from './signatures.js'

export interface HandlerDeps {
  ctx: ServerContext
  held: HeldReplicas
  discovery: Discovery
  maxClockSkew: number
}

/** Refusals worth an operator's eye: a peer that forges, sends garbage or breaks a bound. */
const LOGGED_REFUSALS = new Set([
  'ERR_UNAUTHORIZED',
  'ERR_BAD_REQUEST',
  'ERR_REPLICA_MISMATCH',
  'ERR_STALE_REPLICA',
])

/** Serves other FileServers: store and delete (owner-signed), fetch and has (open), gossip. */
export function createRequestHandler(deps: HandlerDeps): RequestHandler {
  return async (req) => {
    try {
      return await serve(deps, req)
    } catch (err) {
      // p2p only logs handler failures at debug; a refused forgery must leave a reason in the log.
      // (Gossip over its rate bound is logged by Discovery, once per window, not once per message.)
      const code = errorCode(err)
      if (code !== undefined && LOGGED_REFUSALS.has(code)) {
        const op = (req.body as { op?: unknown } | null)?.op
        deps.ctx.logger.warn(
          {
            nodeId: req.peer.nodeId,
            op: typeof op === 'string' ? op.slice(0, 32) : undefined,
            code,
            err: String(err),
          },
          'refused a peer request',
        )
      }
      throw err
    }
  }
}

async function serve(deps: HandlerDeps, req: IncomingRequest): ReturnType<RequestHandler> {
  const parsed = requestSchema.safeParse(req.body)
  if (!parsed.success) {
    throw new BadRequestError(`request fails its schema: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
  }
  const body = parsed.data
  switch (body.op) {
    case 'store':
      return { body: await handleStore(deps, req, body) }
    case 'fetch':
      return handleFetch(deps.ctx, req, body)
    case 'has':
      return { body: await handleHas(deps, body) }
    case 'delete':
      return { body: await handleDelete(deps, body) }
    case 'gossip':
      return { body: { records: deps.discovery.receive(req.peer, body.records) } }
  }
}

function checkFresh(deps: HandlerDeps, issuedAt: number): void {
  if (issuedAt > Date.now() + deps.maxClockSkew) throw new UnauthorizedError('request issued in the future')
}

/** Present only for a replica this node holds as verified bytes (a damaged one is removed when found). */
async function handleHas(deps: HandlerDeps, body: HasRequest) {
  const { ctx } = deps
  const present = await Promise.all(
    body.locators.map(
      async (locator) =>
        ctx.catalogue.getHeld(body.ownerId, locator) !== undefined &&
        (await ctx.store.has(locator, { namespace: body.ownerId })),
    ),
  )
  return { present }
}

async function handleDelete(deps: HandlerDeps, body: DeleteRequest) {
  const { ctx, held } = deps
  verifyAction('delete', body)
  checkFresh(deps, body.issuedAt)
  const prev = ctx.catalogue.getHeld(body.ownerId, body.locator)
  // A delete signed before the replica was stored is a replay: a newer put must survive it.
  if (prev && body.issuedAt < prev.writtenAt) {
    ctx.logger.info(
      { ownerId: body.ownerId, locator: body.locator },
      'ignored a delete older than its replica',
    )
    return { deleted: false }
  }
  const deleted = await ctx.store.delete(body.locator, { namespace: body.ownerId })
  await ctx.catalogue.putTombstone(body.ownerId, body.locator, body.issuedAt)
  if (prev) {
    await ctx.catalogue.removeHeld(body.ownerId, body.locator)
    held.release(body.ownerId, prev.size)
    held.countObject(body.ownerId, -1)
  }
  return { deleted }
}
