import { createHash } from 'node:crypto'

/**
 * Rendezvous (highest-random-weight) ranking: every node that knows the same
 * peers ranks them the same for a locator, and adding or removing one peer
 * moves only the objects that peer ranks first for.
 */
export function rankNodes(locator: string, nodeIds: Iterable<string>): string[] {
  const scored: { nodeId: string; score: Buffer }[] = []
  for (const nodeId of new Set(nodeIds)) {
    scored.push({ nodeId, score: createHash('sha256').update(locator).update('/').update(nodeId).digest() })
  }
  scored.sort((a, b) => Buffer.compare(b.score, a.score) || (a.nodeId < b.nodeId ? -1 : 1))
  return scored.map((s) => s.nodeId)
}
