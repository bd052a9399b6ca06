import type { ActivityEvent, Transfer } from '@cas/api'
import { describe, expect, it } from 'vitest'
import { applyEvent, applySnapshot, applyTransfer, EMPTY_LOG, MAX_EVENTS } from '../app/lib/activity-log.js'

const event = (seq: number): ActivityEvent => ({
  seq,
  at: seq * 1000,
  type: 'transfer',
  message: `event ${seq}`,
})
const transfer = (id: string, state: Transfer['state'], bytes = 0): Transfer => ({
  id,
  kind: 'upload',
  state,
  bytes,
  total: 100,
  startedAt: 0,
})

describe('activity log', () => {
  it('adds, updates and drops transfers as they go', () => {
    let log = applyTransfer(EMPTY_LOG, transfer('a', 'active', 10))
    log = applyTransfer(log, transfer('b', 'active'))
    log = applyTransfer(log, transfer('a', 'active', 60))
    expect(log.transfers.map((t) => [t.id, t.bytes])).toEqual([
      ['a', 60],
      ['b', 0],
    ])
    log = applyTransfer(log, transfer('a', 'done', 100))
    expect(log.transfers.map((t) => t.id)).toEqual(['b'])
    // An end of a transfer never seen starting changes nothing.
    expect(applyTransfer(log, transfer('zzz', 'failed'))).toBe(log)
  })

  it('keeps events newest first, once each, at most MAX_EVENTS', () => {
    let log = EMPTY_LOG
    for (let seq = 1; seq <= MAX_EVENTS + 5; seq++) log = applyEvent(log, event(seq))
    log = applyEvent(log, event(MAX_EVENTS + 5))
    expect(log.recent).toHaveLength(MAX_EVENTS)
    expect(log.recent[0]?.seq).toBe(MAX_EVENTS + 5)
    expect(log.recent.at(-1)?.seq).toBe(6)
  })

  it('takes the snapshot as the truth, merged with what the new connection brought', () => {
    const snapshot = {
      transfers: [transfer('x', 'active'), transfer('y', 'done')],
      recent: [event(1), event(2), event(3)],
    }
    const log = applySnapshot(snapshot, [event(3), event(4)])
    expect(log.transfers.map((t) => t.id)).toEqual(['x'])
    expect(log.recent.map((e) => e.seq)).toEqual([4, 3, 2, 1])
  })
})
