import { createNodeIdentity } from '@cas/p2p'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_MIN_PEERS, PeerRecordSigner, verifyPeerRecord } from '../src/index.js'
import { Cluster, connectedCount, MODES, waitFor } from './helpers/cluster.js'

describe.each(MODES)('discovery over %s', (mode) => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  it('brings 10 nodes, each bootstrapped from only the node before it, to a full view', async () => {
    cluster = new Cluster(mode)
    let prev = await cluster.add()
    for (let i = 1; i < 10; i++) prev = await cluster.add({ bootstrap: [prev.addr] })
    // A full view is membership: every node knows the 9 others with an address, connected or not.
    const members = async (n: (typeof cluster.nodes)[number]) => (await n.server.status()).peers.members
    await waitFor(async () => (await Promise.all(cluster.nodes.map(members))).every((m) => m === 9), {
      what: 'every node to count the 9 others as members',
      timeout: 60_000,
    })
    for (const node of cluster.nodes) {
      const peers = node.server.peers()
      expect(peers.filter((p) => p.nodeId !== node.transport.nodeId)).toHaveLength(9)
      expect(peers.every((p) => p.addr !== undefined)).toBe(true)
    }
    // Discovery keeps minPeers connections of its own (others come on demand, or inbound).
    await waitFor(() => cluster.nodes.every((n) => connectedCount(n) >= DEFAULT_MIN_PEERS), {
      what: `every node to hold at least ${DEFAULT_MIN_PEERS} connections`,
    })
  }, 120_000)
})

describe('peer records', () => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  it('rejects a record whose address was changed after signing, and one signed by another node key', async () => {
    cluster = new Cluster('memory')
    const a = await cluster.add()
    const b = await cluster.add()
    const signer = new PeerRecordSigner(a.identity)
    const rec = signer.sign([a.addr], 5)
    expect(verifyPeerRecord(rec)).toBe(true)
    expect(verifyPeerRecord({ ...rec, addrs: ['127.0.0.1:1'] })).toBe(false)
    expect(verifyPeerRecord({ ...rec, seq: 6 })).toBe(false)
    // Field boundaries are signed: two addresses cannot be passed off as one, nor one as two.
    const two = signer.sign(['127.0.0.1:1', '127.0.0.1:2'], 1)
    expect(verifyPeerRecord(two)).toBe(true)
    expect(verifyPeerRecord({ ...two, addrs: ['127.0.0.1:1\n127.0.0.1:2'] })).toBe(false)
    const one = signer.sign(['127.0.0.1:1\n127.0.0.1:2'], 1)
    expect(verifyPeerRecord({ ...one, addrs: ['127.0.0.1:1', '127.0.0.1:2'] })).toBe(false)
    const other = new PeerRecordSigner(b.identity).sign([a.addr], 5)
    expect(verifyPeerRecord({ ...other, nodeId: a.server.nodeId })).toBe(false)
  })

  it('refuses gossip from one peer beyond the per-interval bound', async () => {
    cluster = new Cluster('memory')
    const a = await cluster.add({ gossipInterval: 60_000 })
    const b = await cluster.add({ gossipInterval: 60_000, bootstrap: [a.addr] })
    await waitFor(() => b.transport.peer(a.server.nodeId) !== undefined, { what: 'b to connect' })
    const peer = b.transport.peer(a.server.nodeId)!
    const results = await Promise.allSettled(
      Array.from({ length: 15 }, () => peer.request({ op: 'gossip', records: [] })),
    )
    const refused = results.filter(
      (r) =>
        r.status === 'rejected' && (r.reason as { remoteCode?: string }).remoteCode === 'ERR_RATE_LIMITED',
    )
    expect(refused.length).toBeGreaterThan(0)
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(10)
  })

  it('refuses a gossip message with more records than the bound', async () => {
    cluster = new Cluster('memory')
    const a = await cluster.add()
    const b = await cluster.add({ bootstrap: [a.addr] })
    await waitFor(() => b.transport.peer(a.server.nodeId) !== undefined, { what: 'b to connect' })
    const rec = new PeerRecordSigner(b.identity).sign([b.addr], Date.now())
    const peer = b.transport.peer(a.server.nodeId)!
    await expect(peer.request({ op: 'gossip', records: Array(33).fill(rec) })).rejects.toMatchObject({
      remoteCode: 'ERR_BAD_REQUEST',
    })
    await expect(peer.request({ op: 'gossip', records: [rec] })).resolves.toBeDefined()
  })

  it('keeps the record with the highest seq for a node, whatever order they arrive in', async () => {
    cluster = new Cluster('memory')
    const a = await cluster.add()
    const b = await cluster.add({ bootstrap: [a.addr] })
    await waitFor(() => b.transport.peer(a.server.nodeId) !== undefined, { what: 'b to connect' })
    const absent = new PeerRecordSigner(await createNodeIdentity())
    const peer = b.transport.peer(a.server.nodeId)!
    const addrOf = () => a.server.peers().find((p) => p.nodeId === absent.nodeId)?.addr
    await peer.request({ op: 'gossip', records: [absent.sign(['127.0.0.1:5'], 5)] })
    expect(addrOf()).toBe('127.0.0.1:5')
    await peer.request({ op: 'gossip', records: [absent.sign(['127.0.0.1:3'], 3)] })
    expect(addrOf()).toBe('127.0.0.1:5')
    await peer.request({ op: 'gossip', records: [absent.sign(['127.0.0.1:7'], 7)] })
    expect(addrOf()).toBe('127.0.0.1:7')
    const forged = { ...absent.sign(['127.0.0.1:9'], 9), addrs: ['127.0.0.1:10'] }
    await peer.request({ op: 'gossip', records: [forged] })
    expect(addrOf()).toBe('127.0.0.1:7')
  })
})
