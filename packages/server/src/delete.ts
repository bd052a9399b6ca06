import type { Peer } from '@cas/p2p'
import type { ServerContext } from './context.js'
import { errorCode } from './errors.js'
import { deleteResponseSchema } from './messages.js'
import { signAction } from './signatures.js'

/** Sends an owner-signed delete of one replica to each peer; resolves with how many removed one. */
export async function deleteEverywhere(ctx: ServerContext, locator: string, peers: Peer[]): Promise<number> {
  const issuedAt = Date.now()
  const fields = { ownerId: ctx.ownerId, locator, issuedAt }
  const { ownerPub, sig } = signAction(ctx.ownerKey, 'delete', fields)
  const results = await Promise.allSettled(
    peers.map(async (peer) => {
      const res = await peer.request(
        { op: 'delete', ...fields, ownerPub, sig },
        { timeout: ctx.fetchTimeout },
      )
      return deleteResponseSchema.parse(res.body).deleted
    }),
  )
  let deleted = 0
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') {
      if (r.value) deleted++
    } else {
      ctx.logger.warn(
        { nodeId: peers[i]?.nodeId, code: errorCode(r.reason) },
        'delete not confirmed by a peer',
      )
    }
  })
  return deleted
}
