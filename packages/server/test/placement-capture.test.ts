import { randomBytes } from 'node:crypto'
import {
  createNodeIdentity,
  DEFAULT_MAX_INBOUND_PER_ADDRESS,
  type NodeIdentity,
  nopHandshake,
  TcpTransport,
  type TcpTransportOptions,
} from '@cas/p2p'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AUDIT_FAILURE_DEMOTION, addressGroups, distrusted, rankedCandidates } from '../src/placement.js'

/**
 * Issue 14, item 4: one host that opens many connections under fresh node ids must not capture
 * the placement of whole objects. A victim transport on loopback, 10 honest peers each on its own
 * address group (127.0.1x.1), and 200 attacker identities all dialling from one host (127.0.200.1);
 * R = 3 placements of many fresh keys are ranked the way a put ranks them. Real sockets throughout.
 */

const HONEST = 10
const ATTACKERS = 200
const R = 3
const PLACEMENTS = 2_000

let identities: NodeIdentity[] = []
const transports: TcpTransport[] = []

beforeAll(async () => {
  identities = await Promise.all(Array.from({ length: HONEST + ATTACKERS + 1 }, () => createNodeIdentity()))
}, 120_000)

afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()))
})

async function transport(i: number, opts: Partial<TcpTransportOptions>): Promise<TcpTransport> {
  const t = new TcpTransport({
    identity: identities[i] as NodeIdentity,
    handshake: nopHandshake,
    dialRetries: 0,
    ...opts,
  })
  transports.push(t)
  await t.listen()
  return t
}

/** Builds the network; returns the victim and the attacker's node ids it ended up connected to. */
async function network(victimOpts: Partial<TcpTransportOptions>) {
  const victim = await transport(0, { host: '127.0.0.1', ...victimOpts })
  for (let i = 0; i < HONEST; i++) {
    const honest = await transport(1 + i, { host: `127.0.${10 + i}.1` })
    await honest.dial(victim.listenAddr)
  }
  const attackerIds = new Set<string>()
  const dials = await Promise.allSettled(
    Array.from({ length: ATTACKERS }, async (_, i) => {
      const a = await transport(1 + HONEST + i, { host: '127.0.200.1' })
      attackerIds.add(a.nodeId)
      await a.dial(victim.listenAddr)
    }),
  )
  const refused = dials.filter((d) => d.status === 'rejected').length
  // A dial resolves on the dialer's side a moment before the victim registers the connection.
  const deadline = Date.now() + 10_000
  while (victim.peers().length < HONEST + ATTACKERS - refused && Date.now() < deadline) {
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { victim, attackerIds, refused }
}

function captured(
  victim: TcpTransport,
  attackerIds: Set<string>,
  groupOf: (nodeId: string) => string,
): { whole: number; mostOnAttacker: number } {
  const live = victim.peers().map((p) => p.nodeId)
  let whole = 0
  let mostOnAttacker = 0
  for (let i = 0; i < PLACEMENTS; i++) {
    const chosen = rankedCandidates(randomBytes(32).toString('hex'), live, groupOf).slice(0, R)
    const onAttacker = chosen.filter((n) => attackerIds.has(n)).length
    if (onAttacker === R) whole++
    mostOnAttacker = Math.max(mostOnAttacker, onAttacker)
  }
  return { whole: whole / PLACEMENTS, mostOnAttacker }
}

describe('placement against one host posing as many peers', () => {
  it('before: no per-address caps and plain rendezvous rank, most placements land wholly on the attacker', async () => {
    const { victim, attackerIds } = await network({
      maxInboundPerAddress: 1_000,
      maxInboundPerGroup: 1_000,
      maxPendingHandshakes: 1_000,
    })
    const connected = victim.peers().filter((p) => attackerIds.has(p.nodeId)).length
    expect(connected).toBe(ATTACKERS)
    const share = captured(victim, attackerIds, (nodeId) => nodeId)
    console.log(
      `[figures] placement capture before: ${connected} attacker connections, ${(share.whole * 100).toFixed(1)} % of R=${R} placements wholly on the attacker`,
    )
    expect(share.whole).toBeGreaterThan(0.7)
  }, 60_000)

  it('after: the attacker gets maxInboundPerAddress connections and at most one replica of any object', async () => {
    const { victim, attackerIds, refused } = await network({})
    const connected = victim.peers().filter((p) => attackerIds.has(p.nodeId)).length
    expect(connected).toBeLessThanOrEqual(DEFAULT_MAX_INBOUND_PER_ADDRESS)
    expect(refused).toBeGreaterThanOrEqual(ATTACKERS - DEFAULT_MAX_INBOUND_PER_ADDRESS)
    // Every honest peer is still connected.
    expect(victim.peers().length - connected).toBe(HONEST)
    const share = captured(victim, attackerIds, addressGroups(victim))
    console.log(
      `[figures] placement capture after: ${connected} attacker connections (${refused} refused), ${(share.whole * 100).toFixed(1)} % of R=${R} placements wholly on the attacker, at most ${share.mostOnAttacker} of ${R} replicas on it`,
    )
    expect(share.whole).toBe(0)
    expect(share.mostOnAttacker).toBe(1)
  }, 60_000)
})

describe('placement after a failed audit', () => {
  it('places a peer that failed an audit after every other candidate, for a day', () => {
    const nodes = Array.from({ length: 6 }, () => randomBytes(32).toString('hex'))
    const ownGroup = (nodeId: string) => nodeId
    const now = Date.now()
    for (let i = 0; i < 200; i++) {
      const key = randomBytes(32).toString('hex')
      const plain = rankedCandidates(key, nodes, ownGroup)
      const failed = plain[0]!
      const ctx = { auditFailures: new Map([[failed, now - 60_000]]) }
      const ranked = rankedCandidates(key, nodes, ownGroup, [], distrusted(ctx, now))
      expect(ranked).toEqual([...plain.slice(1), failed])
      // A day later the failure no longer counts against it.
      const later = rankedCandidates(key, nodes, ownGroup, [], distrusted(ctx, now + AUDIT_FAILURE_DEMOTION))
      expect(later).toEqual(plain)
    }
  })
})
