import type { Peer } from '@cas/p2p'
import type { PendingDelete } from './catalogue.js'
import type { ServerContext } from './context.js'
import { errorCode } from './errors.js'
import { sendDelete } from './protocol/delete.js'
import { signAction } from './signatures.js'

/**
 * Sends owner-signed deletes. A holder that could not be told (offline, or the
 * request failed) stays pending in the catalogue, and the same signed delete
 * is sent again when that node next connects.
 */
export class Deleter {
  readonly #ctx: ServerContext

  constructor(ctx: ServerContext) {
    this.#ctx = ctx
  }

  /** Deletes a replica on its holders (connected to now if need be) and every connected peer; resolves with how many removed one. */
  async delete(locator: string, holders: string[]): Promise<number> {
    const ctx = this.#ctx
    const issuedAt = Date.now()
    const { sig } = signAction(ctx.ownerKey, 'delete', { ownerId: ctx.ownerId, locator, issuedAt })
    const entry: PendingDelete = { locator, issuedAt, sig, pending: [] }
    const reached = await ctx.members.peers(holders)
    const peers = unique([...ctx.transport.peers(), ...reached.filter((p) => p !== undefined)])
    const answered = new Set<string>()
    let deleted = 0
    await Promise.all(
      peers.map(async (peer) => {
        const result = await this.#send(peer, entry)
        if (result === undefined) return
        answered.add(peer.nodeId)
        if (result) deleted++
      }),
    )
    entry.pending = holders.filter((h) => !answered.has(h))
    if (entry.pending.length > 0) await ctx.catalogue.putPendingDelete(entry)
    return deleted
  }

  /** Sends the deletes a newly connected node missed. */
  async onPeer(peer: Peer): Promise<void> {
    for (const entry of this.#ctx.catalogue.pendingDeletes()) {
      if (!entry.pending.includes(peer.nodeId)) continue
      if ((await this.#send(peer, entry)) === undefined) continue
      const latest = this.#ctx.catalogue.getPendingDelete(entry.locator)
      if (!latest || latest.issuedAt !== entry.issuedAt) continue
      latest.pending = latest.pending.filter((n) => n !== peer.nodeId)
      await this.#ctx.catalogue.putPendingDelete(latest)
      this.#ctx.logger.info({ nodeId: peer.nodeId, locator: entry.locator }, 'sent a delete the peer missed')
    }
  }

  /** Forgets pending deletes of a locator: the owner put the object again. */
  async cancel(locator: string): Promise<void> {
    await this.#ctx.catalogue.removePendingDelete(locator)
  }

  /** true/false: the peer answered (removed, or had nothing newer to remove); undefined: no answer. */
  async #send(peer: Peer, entry: PendingDelete): Promise<boolean | undefined> {
    try {
      return await sendDelete(this.#ctx, peer, entry)
    } catch (err) {
      this.#ctx.logger.warn({ nodeId: peer.nodeId, code: errorCode(err) }, 'delete not confirmed by a peer')
      return undefined
    }
  }
}

function unique(peers: Peer[]): Peer[] {
  const byId = new Map<string, Peer>()
  for (const peer of peers) if (!byId.has(peer.nodeId)) byId.set(peer.nodeId, peer)
  return [...byId.values()]
}
