import type { Peer, Transport } from '@cas/p2p'
import type { Logger } from './logger.js'

/** After a failed dial, a member is left out of placement for this long, in ms (then tried again). */
export const UNREACHABLE_FOR = 30_000
/**
 * A connection handed out for a request is not closed to make room for this long, in ms: its request
 * may not have gone out yet (a put dials its holders together and starts on all of them at once).
 */
export const RECENTLY_USED = 1_000

export interface MembershipOptions {
  transport: Transport
  /** Node ids known with an address (the peer book). */
  knownIds: () => string[]
  /** The address the peer book holds for a node. */
  addrOf: (nodeId: string) => string | undefined
  /** Whether a node was reached at its address (connected now, or verified in the peer book). */
  verified: (nodeId: string) => boolean
  /**
   * Takes a dial of an address heard of only from gossip out of the dial budget; false when the
   * budget is spent (the member is not dialled now). Default: always.
   */
  takeDial?: (addr: string) => boolean
  /** Dials an address insisting on the node id (the handshake proves it). */
  dial: (addr: string, nodeId: string) => Promise<Peer>
  /** Most connections held at once. */
  maxConnections: number
  logger: Logger
}

/**
 * The members of the network apart from the connections to them. Members are the connected peers
 * and every node the peer book knows an address of (from gossip, the LAN, a DHT), less those whose
 * last dial failed a moment ago; placement ranks members. A connection is opened when a member is
 * needed (a holder to send to or fetch from) and the pool of connections is held at
 * `maxConnections`: past it, the least recently used connections with nothing in flight close.
 */
export class Membership {
  readonly #o: MembershipOptions
  /** Members whose dial failed, until when they are left out. */
  readonly #unreachable = new Map<string, number>()
  readonly #dialing = new Map<string, Promise<Peer | undefined>>()
  /** Connections this pool closed (they may still be listed for a moment while they close). */
  readonly #closed = new WeakSet<Peer>()
  /** When each node's connection was last handed out by peer(): about to carry a request. */
  readonly #handedOut = new Map<string, number>()

  constructor(options: MembershipOptions) {
    this.#o = options
  }

  /** The address a member is dialled at, from the peer book. */
  addrOf(nodeId: string): string | undefined {
    return this.#o.addrOf(nodeId)
  }

  /**
   * A member known only from gossip (a signed record, never reached): placed after every member
   * reached at its address, so that minted records pointing nowhere do not take replicas.
   */
  unverified(nodeId: string): boolean {
    return !this.#o.verified(nodeId)
  }

  /** Node ids of the members: connected, or known with an address and not found unreachable lately. */
  ids(now = Date.now()): string[] {
    const out = new Set(this.#o.transport.peers().map((p) => p.nodeId))
    for (const [nodeId, until] of this.#unreachable) if (now >= until) this.#unreachable.delete(nodeId)
    for (const nodeId of this.#o.knownIds()) {
      // Expired entries went just above: one still there is unreachable now.
      if (out.has(nodeId) || nodeId === this.#o.transport.nodeId || this.#unreachable.has(nodeId)) continue
      if (this.#o.addrOf(nodeId) !== undefined) out.add(nodeId)
    }
    return [...out]
  }

  /** The connection to a member: the open one, or one dialled now; undefined when it cannot be reached. */
  async peer(nodeId: string): Promise<Peer | undefined> {
    this.#handedOut.set(nodeId, Date.now())
    const open = this.#o.transport.peer(nodeId)
    if (open && !this.#closed.has(open)) return open
    const addr = this.#o.addrOf(nodeId)
    if (addr === undefined) return undefined
    // One that did not answer a moment ago is not waited for again (the next candidate is).
    const until = this.#unreachable.get(nodeId)
    if (until !== undefined && Date.now() < until && !this.#dialing.has(nodeId)) return undefined
    let dialing = this.#dialing.get(nodeId)
    // An address only heard of is dialled within the same budget as discovery's own such dials.
    if (!dialing && this.unverified(nodeId) && this.#o.takeDial?.(addr) === false) return undefined
    if (!dialing) {
      // No room even after closing what is idle: this member is not reached now (the caller moves on).
      if (!this.trim(this.#o.maxConnections - 1)) return undefined
      dialing = this.#o.dial(addr, nodeId).then(
        (peer) => {
          this.#unreachable.delete(nodeId)
          this.#handedOut.set(nodeId, Date.now())
          return peer
        },
        (err: unknown) => {
          this.#unreachable.set(nodeId, Date.now() + UNREACHABLE_FOR)
          this.#o.logger.debug({ nodeId, addr, err: String(err) }, 'a member did not answer')
          return undefined
        },
      )
      const settled = dialing.finally(() => this.#dialing.delete(nodeId))
      this.#dialing.set(nodeId, settled)
      dialing = settled
    }
    return dialing
  }

  /** Connections to several members at once: all are handed out before any dial makes room. */
  peers(nodeIds: readonly string[]): Promise<(Peer | undefined)[]> {
    const now = Date.now()
    for (const nodeId of nodeIds) this.#handedOut.set(nodeId, now)
    return Promise.all(nodeIds.map((nodeId) => this.peer(nodeId)))
  }

  /** A connection came up: the node is reachable again, and the pool is held at its bound. */
  noteUp(nodeId: string): void {
    this.#unreachable.delete(nodeId)
    if (this.trim(this.#o.maxConnections, nodeId)) return
    // Full of connections in use: a connection another node opened is refused, as a full server
    // refuses a client (its request fails and it tries another holder); one this node opened stays.
    for (const p of this.#o.transport.peers()) {
      if (p.nodeId === nodeId && p.direction === 'inbound') {
        this.#closed.add(p)
        p.close('the connection pool is full')
      }
    }
  }

  /**
   * Closes the least recently used connections with nothing in flight until at most `bound` nodes
   * are connected. A busy connection is never closed, nor one handed out by peer() in the last
   * RECENTLY_USED ms with no request sent on it since: the pool may stay above its bound while they are, and a later
   * trim (at the next connection, dial or gossip round) brings it back. `keep`: a node not to close.
   * Returns whether the pool is within `bound` now.
   */
  trim(bound = this.#o.maxConnections, keep?: string, now = Date.now()): boolean {
    const byNode = new Map<string, Peer[]>()
    for (const p of this.#o.transport.peers()) {
      // One this pool closed may still be listed while it closes: it no longer counts.
      if (!this.#closed.has(p)) byNode.set(p.nodeId, [...(byNode.get(p.nodeId) ?? []), p])
    }
    for (const [nodeId, at] of this.#handedOut) if (now - at >= RECENTLY_USED) this.#handedOut.delete(nodeId)
    let excess = byNode.size - Math.max(0, bound)
    if (excess <= 0) return true
    // Handed out, and no request sent on it since: that request is about to go.
    const waiting = (nodeId: string, conns: Peer[]) => {
      const at = this.#handedOut.get(nodeId)
      return at !== undefined && conns.every((c) => c.lastRequestAt < at)
    }
    const idle = [...byNode]
      .filter(([nodeId, conns]) => nodeId !== keep && !waiting(nodeId, conns) && conns.every((c) => !c.busy))
      .map(([, conns]) => ({ conns, at: Math.max(...conns.map((c) => c.lastActive)) }))
      .sort((a, b) => a.at - b.at)
    for (const { conns } of idle) {
      if (excess <= 0) break
      excess--
      for (const c of conns) {
        this.#closed.add(c)
        c.close('the connection pool is full: least recently used')
      }
    }
    return excess <= 0
  }
}
