import { randomBytes } from 'node:crypto'
import { generateOwnerKey } from '@cas/crypto'
import type { Peer } from '@cas/p2p'
import { afterEach, describe, expect, it } from 'vitest'
import { MAX_SMALL_REPLICA_BYTES } from '../src/protocol/messages.js'
import { Cluster, MODES, type TestNode, waitFor } from './helpers/cluster.js'
import { randomFile, readAll } from './helpers/data.js'
import { makeReplica, type TestReplica, tampered } from './helpers/replica.js'

/** Small replicas sent whole, several to a request (`store-small`), and each checked on its own. */

let cluster: Cluster
afterEach(async () => {
  await cluster.close()
})

/** Counts the requests `peer` is sent, by op, and the replicas of its `store-small` requests. */
function countRequests(peer: Peer): { ops: Map<string, number>; replicas: number } {
  const seen = { ops: new Map<string, number>(), replicas: 0 }
  const request = peer.request.bind(peer)
  peer.request = (body, opts) => {
    const { op, replicas } = body as { op: string; replicas?: unknown[] }
    seen.ops.set(op, (seen.ops.get(op) ?? 0) + 1)
    seen.replicas += replicas?.length ?? 0
    return request(body, opts)
  }
  return seen
}

const entry = (r: TestReplica, chunks = r.chunks) => ({ chunk: chunks[0] as Buffer, commit: r.signed.bytes })

describe('small replicas sent whole', () => {
  it.each(MODES)(
    'sends the replicas of small puts that end together in one request per holder, each kept and readable (%s)',
    async (mode) => {
      cluster = new Cluster(mode)
      const options = { replication: 2, cataloguePublishDelay: 60_000 }
      const [a, b, c] = (await cluster.mesh(3, options)) as [TestNode, TestNode, TestNode]
      const counts = [b, c].map((h) => countRequests(a.transport.peer(h.server.nodeId) as Peer))
      const objects = Array.from({ length: 24 }, (_, i) => randomFile(100 + i * 700))
      const puts = await Promise.all(objects.map((o) => a.server.put(o)))
      for (const p of puts) expect(p.replicas.length, JSON.stringify(p)).toBe(2)
      for (const seen of counts) {
        expect(seen.replicas).toBe(24)
        expect(seen.ops.get('store-small')).toBeLessThan(24)
        expect(seen.ops.get('store')).toBeUndefined()
      }
      expect((await b.server.verify()).held).toMatchObject({ checked: 24, removed: 0 })
      expect((await c.server.verify()).held).toMatchObject({ checked: 24, removed: 0 })
      // Read from the holders once the owner's copies are gone.
      for (const [i, p] of puts.entries()) {
        await a.server.evictLocal(p.cid)
        expect((await readAll((await a.server.get(p.cid)).stream)).equals(objects[i] as Buffer)).toBe(true)
      }
      // An object of more than one chunk still streams to its holders.
      const counted = counts[0]?.ops.get('store') ?? 0
      const large = await a.server.put(randomFile(2 * 1024 * 1024 + 10))
      expect(large.replicas.length).toBe(2)
      expect(counts[0]?.ops.get('store')).toBe(counted + 1)
    },
  )

  describe('against a hostile owner', () => {
    async function setUp(quota: { perOwner?: number } = {}) {
      cluster = new Cluster('memory')
      const a = await cluster.add({ replication: 1 })
      const b = await cluster.add({ replication: 1, bootstrap: [a.addr], quota })
      await waitFor(() => a.transport.peer(b.server.nodeId) !== undefined, { what: 'a to reach b' })
      const peer = a.transport.peer(b.server.nodeId) as Peer
      const send = async (replicas: { chunk: Uint8Array; commit: Uint8Array }[]) => {
        const res = await peer.request({ op: 'store-small', v: 2, ownerId: a.ownerKey.ownerId, replicas })
        return (res.body as { results: ({ stored: true; size: number } | { code: string })[] }).results
      }
      return { a, b, send }
    }

    it('checks each replica of a batch on its own: keeps the good ones, refuses the others by name', async () => {
      const { a, b, send } = await setUp()
      const small = () => randomBytes(2000)
      const good = makeReplica(a.ownerKey, small())
      const bad = makeReplica(a.ownerKey, small())
      // Two chunks of 1 KiB: a whole store carries one.
      const twoChunks = makeReplica(a.ownerKey, randomBytes(1500), { chunkSize: 1024 })
      const foreign = makeReplica(generateOwnerKey(), small())
      const alsoGood = makeReplica(a.ownerKey, small())
      const results = await send([
        entry(good),
        entry(bad, tampered(bad.chunks)),
        entry(twoChunks),
        entry(foreign),
        entry(alsoGood),
      ])
      expect(results).toMatchObject([
        { stored: true },
        { code: 'ERR_REPLICA_MISMATCH' },
        { code: 'ERR_REPLICA_MISMATCH' },
        { code: 'ERR_UNAUTHORIZED' },
        { stored: true },
      ])
      expect((await b.server.status()).held.objects).toBe(2)
      // A replay of an older upload under a held replica's locator is refused; the replica stays.
      const older = makeReplica(a.ownerKey, small(), {
        locator: good.locator,
        issuedAt: good.signed.commit.issuedAt - 1000,
      })
      expect(await send([entry(older)])).toMatchObject([{ code: 'ERR_STALE_REPLICA' }])
      expect((await b.server.verify()).held).toMatchObject({ checked: 2, removed: 0 })
    })

    it('charges the quota replica by replica, and refuses a batch that breaks the schema whole', async () => {
      // Room for two replicas of 2,000 bytes and their overhead, not three.
      const { a, b, send } = await setUp({ perOwner: 2 * (4096 + 2600) + 1000 })
      const replicas = Array.from({ length: 4 }, () => makeReplica(a.ownerKey, randomBytes(2000)))
      const results = await send(replicas.map((r) => entry(r)))
      expect(results.filter((r) => 'stored' in r)).toHaveLength(2)
      expect(results.filter((r) => 'code' in r && r.code === 'ERR_QUOTA')).toHaveLength(2)
      expect((await b.server.status()).held.objects).toBe(2)

      const huge = { chunk: randomBytes(MAX_SMALL_REPLICA_BYTES + 1), commit: replicas[0]!.signed.bytes }
      await expect(send([huge])).rejects.toMatchObject({ remoteCode: 'ERR_BAD_REQUEST' })
      await expect(send([])).rejects.toMatchObject({ remoteCode: 'ERR_BAD_REQUEST' })
      // Still serving: the replicas it holds verify.
      expect((await b.server.verify()).held).toMatchObject({ checked: 2, removed: 0 })
    })
  })
})
