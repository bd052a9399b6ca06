import { randomBytes } from 'node:crypto'
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

export function rankedCandidates(key: string, live: Iterable<string>): string[] {
  return rankNodes(key, live)
}

/** Peers to ask for an object: its recorded holders first (if live), then every live peer by rank. */
export function lookupCandidates(
  locator: string,
  holders: readonly string[],
  live: readonly string[],
): string[] {
  return [...new Set([...holders.filter((h) => live.includes(h)), ...rankNodes(locator, live)])]
}
