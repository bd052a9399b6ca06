import { deriveOwnerSecrets, locatorOf } from '@cas/crypto'
import { Store } from '@cas/store'
import { afterEach, describe, expect, it } from 'vitest'
import { type BadPeerEvent, readReplicaHead } from '../src/index.js'
import {
  Cluster,
  FILES_ON_DISK,
  MODES,
  makeTransport,
  type TestNode,
  type TestTransport,
  waitFor,
} from './helpers/cluster.js'
import { randomFile, readAll, sha256 } from './helpers/data.js'

type FetchBody = { op: string; part?: string; first?: number; count?: number; locator?: string }
type Serve = (
  body: FetchBody,
  signal: AbortSignal,
) => Promise<{ body: unknown; data?: AsyncIterable<Uint8Array> | Uint8Array }>

/**
 * A owns an object held by B (R = 1). H, a hostile holder with valid
 * credentials, answers fetches as the test says. G, a fresh node with A's
 * owner key that knows only the cid, fetches the object from B and H at once.
 */
describe.each(MODES)('fetching past holders that serve bad data or hang over %s', (mode) => {
  let cluster: Cluster
  let extra: TestTransport | undefined
  afterEach(async () => {
    await extra?.close()
    extra = undefined
    await cluster.close()
  })

  /** 10 chunks, so that a get cuts them into batches for every holder it knows. */
  const SIZE = 10 * 1024 * 1024

  async function setUp(serve: (real: RealReplica) => Serve) {
    cluster = new Cluster(mode, FILES_ON_DISK)
    const [a, b] = (await cluster.mesh(2, { replication: 1 })) as [TestNode, TestNode]
    const file = randomFile(SIZE)
    const { cid } = await a.server.put(file)
    const real = await realReplica(b, a, cid)
    const made = await makeTransport(mode, a.ownerKey)
    extra = made.transport
    const asked: FetchBody[] = []
    const handler = serve(real)
    made.transport.handle(async (req) => {
      const body = req.body as FetchBody
      if (body.op !== 'fetch') return { body: { records: [] } }
      asked.push(body)
      return handler(body, req.signal)
    })
    await made.transport.listen()
    const g = await cluster.add({
      ownerKey: a.ownerKey,
      bootstrap: [b.addr],
      fetchTimeout: 2_000,
      chunkStall: 1_000,
    })
    await g.server.connect(made.transport.listenAddr)
    await waitFor(
      () =>
        g.transport.peer(made.transport.nodeId) !== undefined &&
        g.transport.peer(b.server.nodeId) !== undefined,
      {
        what: 'G to connect to B and the hostile holder',
      },
    )
    const reported: BadPeerEvent[] = []
    g.server.on('peer:bad', (e: BadPeerEvent) => reported.push(e))
    return { a, b, g, file, cid, hostile: made.transport.nodeId, asked, reported }
  }

  it('skips and reports a holder that serves other bytes under the right commit, and returns the right bytes', async () => {
    const { g, file, cid, hostile, asked, reported } = await setUp((real) => async (body) => {
      if (body.part === 'commit') return { body: { size: real.commit.byteLength }, data: real.commit }
      const bytes = Buffer.from(real.chunks(body.first ?? 0, body.count ?? 1))
      bytes[bytes.length >> 1]! ^= 1
      return { body: { size: bytes.byteLength }, data: bytes }
    })
    const got = await g.server.get(cid)
    expect((await readAll(got.stream)).equals(file)).toBe(true)
    expect(asked.some((b) => b.part === 'chunks')).toBe(true)
    expect(got.skipped).toContainEqual(expect.objectContaining({ nodeId: hostile, code: 'ERR_INTEGRITY' }))
    expect(reported).toContainEqual(expect.objectContaining({ nodeId: hostile, cid, code: 'ERR_INTEGRITY' }))
    expect(g.server.counters().chunksRead).toBe(10)
  }, 60_000)

  it('skips a holder that serves the commit of another object', async () => {
    const { g, file, cid, hostile } = await setUp((real) => async (body) => {
      if (body.part === 'commit') return { body: { size: real.other.byteLength }, data: real.other }
      throw Object.assign(new Error('no'), { code: 'ERR_NOT_FOUND' })
    })
    const got = await g.server.get(cid)
    expect(sha256(await readAll(got.stream))).toBe(sha256(file))
    await waitFor(() => got.skipped.some((s) => s.nodeId === hostile), {
      what: 'the hostile holder to be skipped',
    })
    expect(got.skipped).toContainEqual(
      expect.objectContaining({ nodeId: hostile, code: 'ERR_REPLICA_MISMATCH' }),
    )
  }, 60_000)

  it('moves the chunks of a holder that stops sending mid-stream to another, well within the request timeout', async () => {
    const { g, file, cid, hostile, asked } = await setUp((real) => async (body, signal) => {
      if (body.part === 'commit') return { body: { size: real.commit.byteLength }, data: real.commit }
      const bytes = real.chunks(body.first ?? 0, body.count ?? 1)
      // Sends a little of what it announced, then goes silent until the requester gives up.
      async function* stall(): AsyncIterable<Uint8Array> {
        yield bytes.subarray(0, 1000)
        await new Promise((resolve) => signal.addEventListener('abort', resolve))
      }
      return { body: { size: bytes.byteLength }, data: stall() }
    })
    const started = Date.now()
    const got = await g.server.get(cid)
    expect((await readAll(got.stream)).equals(file)).toBe(true)
    expect(asked.some((b) => b.part === 'chunks')).toBe(true)
    const skip = got.skipped.find((s) => s.nodeId === hostile)
    expect(['ERR_TIMEOUT', 'ERR_PEER_TIMEOUT']).toContain(skip?.code)
    expect(Date.now() - started).toBeLessThan(10_000)
  }, 60_000)

  it('fails with ERR_NOT_FOUND when no peer has the object', async () => {
    cluster = new Cluster(mode, FILES_ON_DISK)
    const [a] = (await cluster.mesh(3, { replication: 2 })) as [TestNode]
    await expect(a.server.get(sha256(randomFile(10)))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
  })
})

interface RealReplica {
  commit: Buffer
  /** The signed commit of another object of the same owner. */
  other: Buffer
  chunks(first: number, count: number): Buffer
}

/** B's replica of A's object as bytes, read through a second Store handle on B's folder. */
async function realReplica(b: TestNode, a: TestNode, cid: string): Promise<RealReplica> {
  const ownerId = a.ownerKey.ownerId
  const store = new Store({ root: `${b.dataDir}/store` })
  const locator = locatorOf(deriveOwnerSecrets(a.ownerKey), cid)
  const head = await readReplicaHead(store, ownerId, locator)
  const content = await readAll(store.read(locator, { namespace: ownerId }))
  const { cid: otherCid } = await a.server.put(randomFile(5_000))
  const other = await readReplicaHead(store, ownerId, locatorOf(deriveOwnerSecrets(a.ownerKey), otherCid))
  const offsets = [0]
  for (const c of head.signed.commit.chunks) offsets.push((offsets.at(-1) as number) + c.length)
  return {
    commit: head.signed.bytes,
    other: other.signed.bytes,
    chunks: (first, count) => content.subarray(offsets[first], offsets[first + count]),
  }
}
