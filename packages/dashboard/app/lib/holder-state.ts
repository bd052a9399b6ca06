import type { ObjectInfo } from '@cas/api'

export type HolderState = 'live' | 'down' | 'damaged' | 'failed-audit'

/** One peer that holds, or held, a replica of an object, with what is known of its copy. */
export interface HolderBadge {
  nodeId: string
  state: HolderState
  /** When the state was last learned, if known (ms). */
  at: number | undefined
}

/**
 * Each peer's replica state, in the order the node lists its holders, then the peers that failed an
 * audit and were dropped. A damaged copy (served bytes failed their check) outranks everything; a
 * failed audit newer than the last proof outranks being down or up.
 */
export function holderBadges(object: Pick<ObjectInfo, 'holders' | 'failedAudits'>): HolderBadge[] {
  const failed = new Map<string, number>()
  for (const f of object.failedAudits) failed.set(f.nodeId, Math.max(f.at, failed.get(f.nodeId) ?? 0))
  const badges: HolderBadge[] = []
  const seen = new Set<string>()
  for (const h of object.holders) {
    if (seen.has(h.nodeId)) continue
    seen.add(h.nodeId)
    const failedAt = failed.get(h.nodeId)
    const proven = Math.max(h.provenAt ?? 0, h.auditedAt ?? 0)
    if (h.damagedAt !== undefined) badges.push({ nodeId: h.nodeId, state: 'damaged', at: h.damagedAt })
    else if (failedAt !== undefined && failedAt >= proven)
      badges.push({ nodeId: h.nodeId, state: 'failed-audit', at: failedAt })
    else if (!h.live) badges.push({ nodeId: h.nodeId, state: 'down', at: h.provenAt })
    else badges.push({ nodeId: h.nodeId, state: 'live', at: h.provenAt })
  }
  for (const [nodeId, at] of failed) {
    if (!seen.has(nodeId)) badges.push({ nodeId, state: 'failed-audit', at })
  }
  return badges
}

/** Replicas that count now: held by a peer that is up, with no known damage. */
export function liveReplicas(object: Pick<ObjectInfo, 'holders' | 'failedAudits'>): number {
  return holderBadges(object).filter((b) => b.state === 'live').length
}

export const HOLDER_STATE_LABEL: Readonly<Record<HolderState, string>> = {
  live: 'live',
  down: 'down',
  damaged: 'damaged',
  'failed-audit': 'failed audit',
}
