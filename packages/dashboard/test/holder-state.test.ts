import { describe, expect, it } from 'vitest'
import { holderBadges, liveReplicas } from '../app/lib/holder-state.js'
import { hex, object } from './objects.js'

const a = hex('a')
const b = hex('b')
const c = hex('c')
const d = hex('d')

describe('holderBadges', () => {
  it('tells live, down, damaged and failed-audit holders apart', () => {
    const o = object({
      cid: hex('1'),
      holders: [
        { nodeId: a, live: true, provenAt: 100 },
        { nodeId: b, live: false, provenAt: 100 },
        { nodeId: c, live: true, provenAt: 100, damagedAt: 200 },
      ],
      failedAudits: [{ nodeId: d, at: 300, code: 'ERR_INTEGRITY' }],
    })
    expect(holderBadges(o).map((x) => [x.nodeId, x.state])).toEqual([
      [a, 'live'],
      [b, 'down'],
      [c, 'damaged'],
      [d, 'failed-audit'],
    ])
    expect(liveReplicas(o)).toBe(1)
  })

  it('shows a failed audit on a listed holder until it proves its copy again', () => {
    const failed = [{ nodeId: a, at: 500, code: 'ERR_INTEGRITY' }]
    const before = object({
      cid: hex('2'),
      holders: [{ nodeId: a, live: true, provenAt: 400 }],
      failedAudits: failed,
    })
    expect(holderBadges(before)).toEqual([{ nodeId: a, state: 'failed-audit', at: 500 }])
    const after = object({
      cid: hex('2'),
      holders: [{ nodeId: a, live: true, auditedAt: 600 }],
      failedAudits: failed,
    })
    expect(holderBadges(after).map((x) => x.state)).toEqual(['live'])
  })

  it('counts a damaged copy as damaged even while its peer is down', () => {
    const o = object({ cid: hex('3'), holders: [{ nodeId: a, live: false, damagedAt: 1 }] })
    expect(holderBadges(o).map((x) => x.state)).toEqual(['damaged'])
    expect(liveReplicas(o)).toBe(0)
  })

  it('gives one badge per peer', () => {
    const o = object({
      cid: hex('4'),
      holders: [
        { nodeId: a, live: true },
        { nodeId: a, live: false },
      ],
      failedAudits: [
        { nodeId: b, at: 1, code: 'X' },
        { nodeId: b, at: 2, code: 'X' },
      ],
    })
    expect(holderBadges(o)).toEqual([
      { nodeId: a, state: 'live', at: undefined },
      { nodeId: b, state: 'failed-audit', at: 2 },
    ])
  })
})
