import { freshRandom } from '@cas/crypto'
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

/** Node ids of the members (connected, or known and not found unreachable lately), once each. */
export function livePeers(ctx: Pick<ServerContext, 'members'>): string[] {
  return ctx.members.ids()
}

export function wantedReplicas(replication: Replication, livePeers: number): number {
  return replication === 'all' ? livePeers : replication
}

/** A placement key for a new put: rendezvous over it spreads puts evenly without knowing the cid. */
export function putPlacementKey(): string {
  return freshRandom(32).toString('hex')
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

/**
 * Peers placed after every other candidate: those that failed an audit in the last day, and members
 * known only from gossip (never reached at their address).
 */
export function distrusted(
  ctx: Pick<ServerContext, 'auditFailures'> & { members?: Pick<ServerContext['members'], 'unverified'> },
  now = Date.now(),
): (nodeId: string) => boolean {
  return (nodeId) => {
    const at = ctx.auditFailures.get(nodeId)
    return (at !== undefined && now - at < AUDIT_FAILURE_DEMOTION) || ctx.members?.unverified(nodeId) === true
  }
}

/**
 * The address group of each member: a connected peer's as its socket shows it, another's from the
 * address the peer book holds; a node of neither is its own group.
 */
export function addressGroups(
  transport: Pick<Transport, 'peer'>,
  addrOf: (nodeId: string) => string | undefined = () => undefined,
): (nodeId: string) => string {
  return (nodeId) => {
    const peer = transport.peer(nodeId)
    const addr = peer?.remoteAddress ?? addrOf(nodeId)
    return addr ? addressGroupOf(addr) : `node:${nodeId}`
  }
}

/** Members asked for an object with no recorded holder (a capability), beyond the connected peers. */
export const LOOKUP_MEMBERS = 16

/**
 * Peers to ask for an object, in waves: its recorded holders that are members; then, only if none of
 * them has it, the connected peers and a few other members, each by rank. A put places replicas by a
 * random key, so an object with no recorded holder may be anywhere: the peers at hand are asked, not
 * every member of a large network. With no recorded holder the first wave is the second one.
 */
export function lookupWaves(
  locator: string,
  holders: readonly string[],
  live: readonly string[],
  connected: readonly string[] = live,
): string[][] {
  const members = new Set(live)
  const first = [...new Set(holders.filter((h) => members.has(h)))]
  const nearby = rankNodes(
    locator,
    connected.filter((n) => members.has(n)),
  )
  const others = rankNodes(locator, live)
    .filter((n) => !connected.includes(n))
    .slice(0, LOOKUP_MEMBERS)
  const rest = [...new Set([...nearby, ...others])].filter((n) => !first.includes(n))
  return first.length > 0 ? [first, rest] : [rest]
}

/** Node ids of the peers connected now, once each. */
export function connectedPeers(ctx: Pick<ServerContext, 'transport'>): string[] {
  return [...new Set(ctx.transport.peers().map((p) => p.nodeId))]
}
