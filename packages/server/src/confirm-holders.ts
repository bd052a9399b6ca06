import { locatorOf } from '@cas/crypto'
import type { ObjectRecord } from './catalogue.js'
import type { ServerContext } from './context.js'
import { askHas } from './protocol/has.js'
import { MAX_HAS_LOCATORS } from './protocol/messages.js'

/** Per cid, the recorded holders that answered a `has` probe: no (`missing`) or yes (`confirmed`). */
export interface HolderAnswers {
  missing: Map<string, Set<string>>
  confirmed: Map<string, Set<string>>
}

/**
 * Asks each live holder, in batches of `has`, whether it still holds the replicas the catalogue
 * records for it, and returns per cid the holders that answered no (a replica lost with a disk or
 * removed by hand) and those that answered yes. A holder that does not answer is in neither: it may
 * only be busy. A holder
 * answers yes only for a replica it stored after checking it against the owner's commit and has not
 * since found damaged (it re-checks each chunk it serves, and scrubs what it holds).
 */
export async function missingReplicas(
  ctx: ServerContext,
  records: ObjectRecord[],
  live: Set<string>,
  signal: AbortSignal,
): Promise<HolderAnswers> {
  const byHolder = new Map<string, { cid: string; locator: string }[]>()
  for (const rec of records) {
    const locator = locatorOf(ctx.secrets, rec.cid)
    for (const nodeId of rec.holders) {
      if (!live.has(nodeId)) continue
      const list = byHolder.get(nodeId) ?? []
      list.push({ cid: rec.cid, locator })
      byHolder.set(nodeId, list)
    }
  }
  const missing = new Map<string, Set<string>>()
  const confirmed = new Map<string, Set<string>>()
  const note = (into: Map<string, Set<string>>, cid: string, nodeId: string) =>
    into.set(cid, (into.get(cid) ?? new Set<string>()).add(nodeId))
  for (const [nodeId, items] of byHolder) {
    for (let i = 0; i < items.length && !signal.aborted; i += MAX_HAS_LOCATORS) {
      const peer = await ctx.members.peer(nodeId)
      if (!peer) break
      const batch = items.slice(i, i + MAX_HAS_LOCATORS)
      try {
        const present = await askHas(
          ctx,
          peer,
          batch.map((b) => b.locator),
          signal,
        )
        batch.forEach((b, j) => {
          if (present[j] === false) note(missing, b.cid, nodeId)
          else if (present[j] === true) note(confirmed, b.cid, nodeId)
        })
      } catch {
        break
      }
    }
  }
  for (const [cid, holders] of missing) {
    ctx.logger.warn({ cid, holders: [...holders] }, 'holders no longer have their replica')
  }
  return { missing, confirmed }
}
