import { randomBytes } from 'node:crypto'
import { addressGroupOf, type Transport } from '@cas/p2p'
import type { ServerContext } from './context.js'
import { rankNodes } from './rendezvous.js'
import type { Replication } from './types.js'

/**
 * Where replicas go: the live peers, how many replicas an object wants, and
 * the candidates in rendezvous order. A put ranks by a fresh random key (its
 * locator is known only after its last byte); repair and lookups rank by the
 * locator, after the holders recorded in the catalogue.
 */

/** Node ids of the connected peers, once each. */
export function livePeers(ctx: ServerContext): string[] {
  return [...new Set(ctx.transport.peers().map((p) => p.nodeId))]
}

export function wantedReplicas(replication: Replication, livePeers: number): number {
  return replication === 'all' ? livePeers : replication
}

/** A placement key for a new put: rendezvous over it spreads puts evenly without knowing the cid. */
export function putPlacementKey(): string {
  return randomBytes(32).toString('hex')
}

/**
 * Candidates for `key` in rendezvous order, spread over address groups: the best-ranked peer of each
 * group (an IPv4 /24, an IPv6 /48) not yet holding a replica comes first, the others after, in rank
 * order. So a host (or a block) that poses as many peers gets one replica of an object while peers
 * elsewhere can take the rest; on a network with one group (a machine's own nodes) it is plain rank.
 * `holders`: peers that already hold a replica (repair), whose groups count as used.
 */
export function rankedCandidates(
  key: string,
  live: Iterable<string>,
  groupOf: (nodeId: string) => string,
  holders: readonly string[] = [],
  /** Peers to place last whatever their rank (see `distrusted`). */
  demoted: (nodeId: string) => boolean = () => false,
): string[] {
  const used = new Set(holders.map(groupOf))
  const first: string[] = []
  const later: string[] = []
  const last: string[] = []
  for (const nodeId of rankNodes(key, live)) {
    const group = groupOf(nodeId)
    if (demoted(nodeId)) last.push(nodeId)
    else if (used.has(group)) later.push(nodeId)
    else {
      used.add(group)
      first.push(nodeId)
    }
  }
  return [...first, ...later, ...last]
}

/** How long a peer that failed an audit is placed last. */
export const AUDIT_FAILURE_DEMOTION = 24 * 60 * 60_000

/** Peers that failed an audit in the last day: placed after every other candidate. */
export function distrusted(
  ctx: Pick<ServerContext, 'auditFailures'>,
  now = Date.now(),
): (nodeId: string) => boolean {
  return (nodeId) => {
    const at = ctx.auditFailures.get(nodeId)
    return at !== undefined && now - at < AUDIT_FAILURE_DEMOTION
  }
}

/** The address group of each connected peer, as its socket shows it; a peer not connected is its own group. */
export function addressGroups(transport: Pick<Transport, 'peer'>): (nodeId: string) => string {
  return (nodeId) => {
    const peer = transport.peer(nodeId)
    return peer ? addressGroupOf(peer.remoteAddress) : `node:${nodeId}`
  }
}

/** Peers to ask for an object: its recorded holders first (if live), then every live peer by rank. */
export function lookupCandidates(
  locator: string,
  holders: readonly string[],
  live: readonly string[],
): string[] {
  return [...new Set([...holders.filter((h) => live.includes(h)), ...rankNodes(locator, live)])]
}
