import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '@cas/store'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type Progress,
  RECORD_CHUNK,
  RECORD_COMMIT,
  recordHead,
  signCommit,
  type TransferEvent,
} from '../src/index.js'
import { Cluster, connectedCount, waitFor } from './helpers/cluster.js'
import { randomFile, readAll } from './helpers/data.js'

describe('FileServer lifecycle and hooks', () => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  it('lets a second node with the same owner key get an object knowing only its cid', async () => {
    cluster = new Cluster('tls')
    const [a] = await cluster.mesh(3, { replication: 2 })
    const file = randomFile(123_456)
    const { cid } = await a!.server.put(file)
    const twin = await cluster.add({ ownerKey: a!.ownerKey, bootstrap: [a!.addr] })
    await waitFor(() => connectedCount(twin) === 3, { what: 'the twin to join' })
    expect(await twin.server.has(cid)).toBe(false)
    const got = await twin.server.get(cid)
    expect((await readAll(got.stream)).equals(file)).toBe(true)
    expect(await twin.server.has(cid)).toBe(true)
  })

  it('reports ingest, replicate and fetch progress up to the totals', async () => {
    cluster = new Cluster('memory')
    const [a] = await cluster.mesh(3, { replication: 2 })
    const seen: Progress[] = []
    const file = randomFile(1_000_000)
    const { cid } = await a!.server.put(file, { onProgress: (p) => seen.push({ ...p }) })
    const last = (phase: Progress['phase']) => seen.filter((p) => p.phase === phase).at(-1)
    expect(last('ingest')).toEqual({ phase: 'ingest', done: 1_000_000, total: 1_000_000 })
    expect(last('replicate')!.done).toBe(last('replicate')!.total)
    await a!.server.evictLocal(cid)
    await readAll((await a!.server.get(cid, { onProgress: (p) => seen.push({ ...p }) })).stream)
    expect(last('fetch')).toEqual({ phase: 'fetch', done: 1_000_000, total: 1_000_000 })
  })

  it('replicates to every connected peer with replication "all"', async () => {
    cluster = new Cluster('memory')
    const [a] = await cluster.mesh(4, { replication: 'all' })
    const res = await a!.server.put(randomFile(10_000))
    expect(res).toMatchObject({ wanted: 3, underReplicated: false })
    expect(res.replicas).toHaveLength(3)
  })

  it('stops while a put streams in: the put is aborted, stop resolves, later calls fail with ERR_NOT_RUNNING', async () => {
    cluster = new Cluster('memory')
    const a = await cluster.add()
    let release: () => void = () => {}
    const started = new Promise<void>((resolve) => {
      release = resolve
    })
    async function* endless(): AsyncIterable<Uint8Array> {
      for (;;) {
        yield new Uint8Array(64 * 1024)
        release()
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    const put = a.server.put(endless())
    // Handled from the start: the put fails while the stop is still closing the node.
    const failed = expect(put).rejects.toThrow()
    await started
    await cluster.stop(a)
    await failed
    await expect(a.server.put(new Uint8Array(1))).rejects.toMatchObject({ code: 'ERR_NOT_RUNNING' })
  })

  it('stops only once the stores it was serving have finished with the disk', async () => {
    cluster = new Cluster('memory')
    const a = await cluster.add()
    // The holder's store holds each replica's final write (commit) until the test lets it go.
    const storeDir = await mkdtemp(join(tmpdir(), 'cas-gated-store-'))
    const store = new Store({ root: storeDir, packBelow: 64 * 1024 })
    let entered: () => void = () => {}
    const inCommit = new Promise<void>((resolve) => {
      entered = resolve
    })
    let open: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const writer = store.writer.bind(store)
    store.writer = async (opts) => {
      const w = await writer(opts)
      const commit = w.commit.bind(w)
      w.commit = async (key) => {
        entered()
        await gate
        return commit(key)
      }
      return w
    }
    try {
      const b = await cluster.add({ store, bootstrap: [a.addr] })
      await waitFor(() => a.transport.peer(b.server.nodeId) !== undefined, { what: 'a connected to b' })
      const peer = a.transport.peer(b.server.nodeId)
      if (!peer) throw new Error('not connected')
      const chunk = randomFile(1024)
      const signed = signCommit(a.ownerKey, {
        ownerId: a.ownerKey.ownerId,
        locator: randomBytes(32).toString('hex'),
        issuedAt: Date.now(),
        chunks: [{ length: chunk.byteLength, hash: createHash('sha256').update(chunk).digest() }],
        keyBox: randomBytes(60),
        manifestBox: randomBytes(80),
      })
      const records = [
        recordHead(RECORD_CHUNK, chunk.byteLength),
        chunk,
        recordHead(RECORD_COMMIT, signed.bytes.byteLength),
        signed.bytes,
      ]
      const storing = peer.request(
        { op: 'store', v: 2, ownerId: a.ownerKey.ownerId },
        {
          data: (async function* () {
            yield* records
          })(),
        },
      )
      storing.catch(() => {})
      await inCommit
      let stopped = false
      const stop = cluster.stop(b).then(() => {
        stopped = true
      })
      // Stopping closes the connections at once; the replica being renamed into place is still waited for.
      await waitFor(() => b.transport.peers().length === 0, { what: 'b to close its connections' })
      for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve))
      expect(stopped).toBe(false)
      open()
      await stop
      expect(stopped).toBe(true)
    } finally {
      open()
      await store.close()
      await rm(storeDir, { recursive: true, force: true })
    }
  })

  it('holds at most maxPeers connections, and every node it learnt of stays a member', async () => {
    cluster = new Cluster('memory')
    // Six nodes meshed, each content with its five connections: none dials the newcomer on its own.
    const others = await cluster.mesh(6, { minPeers: 5 })
    const limited = await cluster.add({ maxPeers: 3, bootstrap: [others[0]!.addr] })
    // The newcomer learns the six by gossip over at most three connections, and keeps them as members.
    await waitFor(async () => (await limited.server.status()).peers.members === 6, {
      what: 'the newcomer to know all six as members',
    })
    // It reaches each once (within its dial budget), so that placement trusts them.
    await waitFor(async () => (await limited.server.status()).peers.verified === 6, {
      what: 'the newcomer to have reached all six',
    })
    await waitFor(() => connectedCount(limited) <= 3, { what: 'the pool to be held at its bound' })
    // Members not connected are reached on demand, within the bound: puts of R = 2 land on more
    // nodes than the pool ever holds at once.
    const holders = new Set<string>()
    let peak = 0
    for (let i = 0; i < 16 && holders.size < 6; i++) {
      const put = await limited.server.put(randomFile(10_000), { replication: 2 })
      peak = Math.max(peak, connectedCount(limited))
      expect(put.replicas, JSON.stringify(put.refused)).toHaveLength(2)
      for (const h of put.replicas) holders.add(h)
    }
    expect(holders.size).toBeGreaterThan(3)
    expect(peak).toBeLessThanOrEqual(3)
    await waitFor(() => connectedCount(limited) <= 3, { what: 'the pool at its bound once idle' })
  })

  it('serves concurrent gets of the same missing object, each verified', async () => {
    cluster = new Cluster('memory')
    const [a] = await cluster.mesh(3, { replication: 2 })
    const file = randomFile(400_000)
    const { cid } = await a!.server.put(file)
    await a!.server.evictLocal(cid)
    const fetched: TransferEvent[] = []
    a!.server.on('transfer', (e: TransferEvent) => {
      if (e.kind === 'fetch' && e.direction === 'in') fetched.push(e)
    })
    const results = await Promise.all([a!.server.get(cid), a!.server.get(cid), a!.server.get(cid)])
    const bytes = await Promise.all(results.map((r) => readAll(r.stream)))
    for (const b of bytes) expect(b.equals(file)).toBe(true)
    // Each get streams its own chunks (none waits for another's whole fetch); each caches a whole copy.
    expect(fetched.reduce((n, e) => n + e.bytes, 0)).toBe(3 * file.byteLength)
    expect(await a!.server.has(cid)).toBe(true)
  })

  it('streams an inclusive byte range of a local or fetched object, and refuses a reversed one', async () => {
    cluster = new Cluster('memory')
    const [a] = await cluster.mesh(2, { replication: 1 })
    const file = randomFile(300_000)
    const { cid } = await a!.server.put(file)
    const local = await a!.server.get(cid, { start: 10, end: 19 })
    expect(await readAll(local.stream)).toEqual(file.subarray(10, 20))
    await a!.server.evictLocal(cid)
    const fetched = await a!.server.get(cid, { start: 299_990 })
    expect(fetched.size).toBe(300_000)
    expect(await readAll(fetched.stream)).toEqual(file.subarray(299_990))
    await expect(a!.server.get(cid, { start: 5, end: 4 })).rejects.toMatchObject({
      code: 'ERR_INVALID_RANGE',
    })
  })

  it('finishes an under-replicated put once more peers join, through repair', async () => {
    cluster = new Cluster('memory')
    const [a] = await cluster.mesh(2, { replication: 2 })
    const first = await a!.server.put(randomFile(30_000))
    expect(first).toMatchObject({ wanted: 2, underReplicated: true })
    expect(first.replicas).toHaveLength(1)
    expect(await a!.server.repair()).toMatchObject({ healthy: 0, underReplicated: 1 })
    const late = await cluster.add({ bootstrap: [a!.addr] })
    await waitFor(() => connectedCount(a!) === 2, { what: 'the late node to join' })
    expect(await a!.server.repair()).toMatchObject({ healthy: 1, underReplicated: 0 })
    const holders = (await a!.server.stat(first.cid)).holders.map((h) => h.nodeId)
    expect(holders).toContain(late.server.nodeId)
    expect(holders).toHaveLength(2)
  })
})
