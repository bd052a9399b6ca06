import type { Activity, ActivityEvent, Transfer } from '@cas/api'

/** Most events the Activity page keeps. */
export const MAX_EVENTS = 200

/** Transfers in progress (oldest first) and recent events (newest first). */
export interface ActivityLog {
  transfers: Transfer[]
  recent: ActivityEvent[]
}

export const EMPTY_LOG: ActivityLog = { transfers: [], recent: [] }

function mergeEvents(a: readonly ActivityEvent[], b: readonly ActivityEvent[]): ActivityEvent[] {
  const bySeq = new Map<number, ActivityEvent>()
  for (const e of a) bySeq.set(e.seq, e)
  for (const e of b) bySeq.set(e.seq, e)
  return [...bySeq.values()].sort((x, y) => y.seq - x.seq).slice(0, MAX_EVENTS)
}

/**
 * The node's own view (`GET /v1/activity`, fetched on each (re)connect) replaces ours: its
 * transfers, and its events with those the new connection brought before it answered (without
 * duplicates, by `seq`). Events of an earlier connection are dropped, as a node that restarted
 * numbers its events from 1 again.
 */
export function applySnapshot(activity: Activity, streamed: readonly ActivityEvent[] = []): ActivityLog {
  return {
    transfers: activity.transfers.filter((t) => t.state === 'active'),
    recent: mergeEvents(activity.recent, streamed),
  }
}

/** A `transfer` event: one that is active is added or updated, one that ended is dropped. */
export function applyTransfer(log: ActivityLog, transfer: Transfer): ActivityLog {
  const others = log.transfers.filter((t) => t.id !== transfer.id)
  if (transfer.state !== 'active') {
    return others.length === log.transfers.length ? log : { ...log, transfers: others }
  }
  const index = log.transfers.findIndex((t) => t.id === transfer.id)
  const transfers = [...log.transfers]
  if (index === -1) transfers.push(transfer)
  else transfers[index] = transfer
  return { ...log, transfers }
}

/** An `activity` event. */
export function applyEvent(log: ActivityLog, event: ActivityEvent): ActivityLog {
  return { ...log, recent: mergeEvents(log.recent, [event]) }
}
