import { afterEach, describe, expect, it } from 'vitest'
import type { PeerRecord } from '../src/index.js'
import { Cluster, type NodeOptions, type TestNode, type TestTransport, waitFor } from './helpers/cluster.js'
import { DialCounter, deadAddr, floodGossip, mintedPeerRecords } from './helpers/peer-records.js'

/** More than the old book's 1,000 slots, sent by 7 minted identities (10 messages of 32 each). */
const FAKES = 2_240
const GOSSIP_INTERVAL = 200

/**
 * V is the victim, H an honest peer connected to it. Minted identities gossip thousands of signed
 * records to V. A newcomer bootstrapped from H dials no one else (maxPeers 1), so V can only learn
 * it through H's gossip, as it would any node it is not told about directly.
 */
describe('a peer book under a flood of minted identities', () => {
  let cluster: Cluster
  let attackers: TestTransport[] = []
  let counter: DialCounter | undefined
  afterEach(async () => {
    await Promise.all(attackers.map((t) => t.close()))
    attackers = []
    await counter?.close()
    counter = undefined
    await cluster.close()
  })

  /** V has room to dial what it learns (the attackers' connections count towards its pool). */
  const ROOM = { minPeers: 48, maxPeers: 64 } as const

  async function victim(opts: NodeOptions = {}): Promise<{ v: TestNode; h: TestNode }> {
    cluster = new Cluster('plain')
    const v = await cluster.add({ gossipInterval: GOSSIP_INTERVAL, ...ROOM, ...opts })
    // H dials nothing it only heard of (V passes some gossip-only records on): the dials counted are V's.
    const h = await cluster.add({
      gossipInterval: GOSSIP_INTERVAL,
      bootstrap: [v.addr],
      peerBook: { unverifiedDials: 0 },
    })
    await waitFor(() => v.transport.peer(h.server.nodeId) !== undefined, { what: 'H to connect to V' })
    return { v, h }
  }

  async function flood(v: TestNode, records: PeerRecord[]): Promise<Set<string>> {
    attackers.push(...(await floodGossip('plain', v.addr, records)))
    return new Set(records.map((r) => r.nodeId))
  }

  function fakesKnown(node: TestNode, fakes: Set<string>): number {
    return node.server.peers().filter((p) => fakes.has(p.nodeId)).length
  }

  async function newcomerJoins(v: TestNode, h: TestNode): Promise<void> {
    const n = await cluster.add({ gossipInterval: GOSSIP_INTERVAL, bootstrap: [h.addr], maxPeers: 1 })
    await waitFor(
      () =>
        v.transport.peer(n.server.nodeId) !== undefined &&
        v.server.peers().some((p) => p.nodeId === n.server.nodeId),
      { what: 'V to take the newcomer into its book and connect to it', timeout: 20_000 },
    )
  }

  it('takes and connects a real newcomer after 2,240 fake records filled the book', async () => {
    const { v, h } = await victim()
    const fakes = await flood(v, mintedPeerRecords(FAKES, [await deadAddr()]))
    // The flood landed: the book holds fake records (and, before the fix, nothing else fitted).
    expect(fakesKnown(v, fakes)).toBeGreaterThan(100)
    await newcomerJoins(v, h)
    expect((await v.server.status()).peers.verified).toBeGreaterThanOrEqual(2)
  }, 60_000)

  it('reloads the peers it reached but not the fake records, and takes newcomers after a restart', async () => {
    const { v, h } = await victim()
    const fakes = await flood(v, mintedPeerRecords(FAKES, [await deadAddr()]))
    expect(fakesKnown(v, fakes)).toBeGreaterThan(100)
    await cluster.stop(v)
    const again = await cluster.add({
      gossipInterval: GOSSIP_INTERVAL,
      ...ROOM,
      identity: v.identity,
      ownerKey: v.ownerKey,
      dataDir: v.dataDir,
    })
    expect(fakesKnown(again, fakes)).toBe(0)
    // H was reached before the restart: its record is reloaded and redialled at once.
    expect(again.server.peers().some((p) => p.nodeId === h.server.nodeId)).toBe(true)
    await waitFor(() => again.transport.peer(h.server.nodeId) !== undefined, { what: 'V to redial H' })
    await flood(again, mintedPeerRecords(FAKES, [await deadAddr()]))
    await newcomerJoins(again, h)
  }, 60_000)

  it('dials addresses it only heard of at a bounded rate, whatever it is told', async () => {
    const perHost = 2
    const { v } = await victim({ peerBook: { unverifiedDials: 4, unverifiedDialsPerHost: perHost } })
    counter = await DialCounter.open(32)
    const records = mintedPeerRecords(FAKES, counter.addrs)
    const start = Date.now()
    await flood(v, records)
    const dials = counter.times
    await waitFor(() => dials.length >= 12, { what: '12 dials of gossip-only addresses', timeout: 20_000 })
    const elapsed = Date.now() - start
    // Every address is on 127.0.0.1: at most `perHost` dials per gossip interval the window touches.
    const bound = perHost * (Math.ceil(elapsed / GOSSIP_INTERVAL) + 1)
    expect(dials.length).toBeLessThanOrEqual(bound)
  }, 60_000)
})
