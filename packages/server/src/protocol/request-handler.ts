import type { IncomingRequest, RequestHandler } from '@cas/p2p'
import type { ServerContext } from '../context.js'
import type { Discovery } from '../discovery.js'
import { BadRequestError, UnauthorizedError } from '../errors.js'
import type { HeldReplicas } from '../held-replicas.js'
import { handleDelete } from './delete.js'
import { handleFetch } from './fetch.js'
import { handleGossip } from './gossip.js'
import { handleHas } from './has.js'
import { handleHead, handleHeads } from './heads.js'
import { requestSchema } from './messages.js'
import { logRefusal } from './refusals.js'
import { handleStore, handleStoreSmall } from './store.js'

export interface HandlerDeps {
  ctx: ServerContext
  held: HeldReplicas
  discovery: Discovery
  maxClockSkew: number
  /** Refuses a store when the disk would keep less than the node's `minFreeDisk` free. */
  checkDisk: (coming: number) => Promise<void>
}

/** Serves other FileServers: store and delete (owner-signed), fetch and has (open), gossip. */
export function createRequestHandler(deps: HandlerDeps): RequestHandler {
  return async (req) => {
    try {
      return await serve(deps, req)
    } catch (err) {
      // (Gossip over its rate bound is logged by Discovery, once per window, not once per message.)
      logRefusal(deps.ctx.logger, req.peer.nodeId, (req.body as { op?: unknown } | null)?.op, err)
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
  if (body.op !== 'store' && req.data !== undefined) {
    // Only a store takes an upload. Any other op that carries one is refused, and the upload cancelled
    // at once, so its bytes (up to a 4 MiB window per request) are not held while the op runs.
    await req.data[Symbol.asyncIterator]().return?.()
    throw new BadRequestError(`${body.op} takes no upload`)
  }
  const owned = { ...deps, checkFresh: (issuedAt: number) => checkFresh(deps, issuedAt) }
  switch (body.op) {
    case 'store':
      return { body: await handleStore(owned, req, body) }
    case 'store-small':
      return { body: await handleStoreSmall(owned, req, body) }
    case 'fetch':
      return handleFetch(deps.ctx, req, body)
    case 'has':
      return { body: await handleHas(deps.ctx, body) }
    case 'delete':
      return { body: await handleDelete(owned, body) }
    case 'gossip':
      return { body: handleGossip(deps.discovery, req, body) }
    case 'head':
      return { body: await handleHead(owned, body) }
    case 'heads':
      return { body: handleHeads(deps.ctx, body) }
  }
}

function checkFresh(deps: HandlerDeps, issuedAt: number): void {
  if (issuedAt > Date.now() + deps.maxClockSkew) throw new UnauthorizedError('request issued in the future')
}
