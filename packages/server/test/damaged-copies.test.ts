import { readFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { casPathTransform } from '@cas/store'
import { afterEach, describe, expect, it } from 'vitest'
import { Cluster, FILES_ON_DISK, type TestNode, waitFor } from './helpers/cluster.js'
import { randomFile, readAll } from './helpers/data.js'
import { heldReplicaPath } from './helpers/replica.js'

/** A's local plaintext and B's ciphertext replica, damaged on disk behind the store's back (bit rot). */
const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  )

describe('damaged copies on disk', () => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  async function setUp(): Promise<{ a: TestNode; b: TestNode }> {
    cluster = new Cluster('memory', FILES_ON_DISK)
    const [a, b] = await cluster.mesh(2, { replication: 1 })
    return { a: a!, b: b! }
  }

  const localPath = (a: TestNode, cid: string) => join(a.dataDir, 'store', 'self', casPathTransform(cid))

  async function flipBit(path: string, from = 0): Promise<void> {
    const bytes = await readFile(path)
    const at = from + Math.floor(Math.random() * (bytes.length - from))
    bytes[at]! ^= 1 << Math.floor(Math.random() * 8)
    await writeFile(path, bytes)
  }

  it('never serves a bit-flipped local copy: it fetches a good replica and replaces the file', async () => {
    const { a } = await setUp()
    const file = randomFile(500_000)
    const { cid, replicas } = await a.server.put(file)
    expect(replicas).toHaveLength(1)
    await flipBit(localPath(a, cid), 200)

    expect((await a.server.verify()).damaged).toEqual([cid])
    const got = await a.server.get(cid)
    expect((await readAll(got.stream)).equals(file)).toBe(true)
    // The damaged copy is replaced in the background from the holder.
    await waitFor(async () => (await a.server.verify()).damaged.length === 0, {
      what: 'the local copy to be replaced',
    })
  })

  it('reports a local copy whose header is damaged, which the store cannot list', async () => {
    const { a } = await setUp()
    const { cid } = await a.server.put(randomFile(10_000))
    const path = localPath(a, cid)
    const bytes = await readFile(path)
    bytes[0]! ^= 0xff
    await writeFile(path, bytes)
    expect(await a.server.verify()).toMatchObject({ checked: 1, damaged: [cid] })
  })

  it('fails with ERR_INTEGRITY rather than serve a damaged copy that no peer can replace', async () => {
    cluster = new Cluster('memory', FILES_ON_DISK)
    const a = (await cluster.add())!
    const { cid } = await a.server.put(randomFile(100_000))
    await truncate(localPath(a, cid), 50_000)
    await expect(a.server.get(cid)).rejects.toMatchObject({ code: 'ERR_INTEGRITY' })
  })

  it('sends a fresh replica to a holder whose replica failed during a fetch', async () => {
    cluster = new Cluster('memory', FILES_ON_DISK)
    const [a, b, c] = (await cluster.mesh(3, { replication: 2 })) as [TestNode, TestNode, TestNode]
    // 10 chunks: a get asks both holders for batches of them, so the damaged one is asked too.
    const file = randomFile(10 * 1024 * 1024)
    const { cid, replicas } = await a.server.put(file)
    expect(replicas).toHaveLength(2)
    const bad = [b, c].find((n) => n.server.nodeId === replicas[0]) as TestNode
    const path = heldReplicaPath(bad, a, cid)
    const damaged = await readFile(path)
    const header = 4 + 1 + 2 + 64
    for (let k = 0; k < 10; k++) damaged[header + k * 1024 * 1024 + 7]! ^= 1
    await writeFile(path, damaged)
    await a.server.evictLocal(cid)

    const got = await a.server.get(cid)
    expect((await readAll(got.stream)).equals(file)).toBe(true)
    expect(got.skipped).toContainEqual(
      expect.objectContaining({ nodeId: bad.server.nodeId, code: 'ERR_REPLICA_MISMATCH' }),
    )
    await waitFor(async () => (await exists(path)) && !(await readFile(path)).equals(damaged), {
      what: 'the bad replica to be replaced',
    })
    expect((await bad.server.verify()).held).toEqual({ checked: 1, removed: 0 })

    await a.server.evictLocal(cid)
    const again = await a.server.get(cid)
    expect((await readAll(again.stream)).equals(file)).toBe(true)
    expect(again.skipped).toEqual([])
  }, 60_000)

  it('keeps answering ERR_INTEGRITY, not "not found", once every holder has dropped its damaged replica', async () => {
    cluster = new Cluster('memory', FILES_ON_DISK)
    const [a, b, c] = (await cluster.mesh(3, { replication: 2 })) as [TestNode, TestNode, TestNode]
    const { cid, replicas } = await a.server.put(randomFile(3 * 1024 * 1024))
    expect(replicas).toHaveLength(2)
    for (const holder of [b, c]) {
      const path = heldReplicaPath(holder, a, cid)
      const bytes = await readFile(path)
      for (let k = 0; k < 3; k++) bytes[k * 1024 * 1024 + 100]! ^= 1
      await writeFile(path, bytes)
    }
    await a.server.evictLocal(cid)
    const fetchAll = async () => readAll((await a.server.get(cid)).stream)

    await expect(fetchAll()).rejects.toMatchObject({ code: 'ERR_INTEGRITY' })
    // Each holder drops the replica its serving found damaged: no copy is left anywhere.
    await waitFor(
      async () => !(await exists(heldReplicaPath(b, a, cid))) && !(await exists(heldReplicaPath(c, a, cid))),
      {
        what: 'both holders to drop their damaged replicas',
      },
    )
    await expect(fetchAll()).rejects.toMatchObject({ code: 'ERR_INTEGRITY' })
    // The holder that served bad bytes is on record; one that answered "not found" (it had dropped its
    // copy already) may have lost it for any reason, so the owner does not call it damaged.
    const info = await a.server.stat(cid)
    expect(info.holders.some((h) => typeof h.damagedAt === 'number')).toBe(true)
  })

  it('does not spread a rotten local copy to a new holder during repair', async () => {
    cluster = new Cluster('memory', FILES_ON_DISK)
    const a = (await cluster.add({ replication: 1 }))!
    const file = randomFile(400_000)
    const { cid, underReplicated } = await a.server.put(file)
    expect(underReplicated).toBe(true)
    await flipBit(localPath(a, cid), 200)
    const b = (await cluster.add({ bootstrap: [a.addr] }))!
    await waitFor(() => a.transport.peers().length > 0, { what: 'B to connect' })

    const status = await a.server.repair()
    expect(status.underReplicated).toBe(1)
    expect((await a.server.stat(cid)).holders).toEqual([])
    await waitFor(async () => !(await exists(heldReplicaPath(b, a, cid))), { what: 'no replica on B' })
  })

  it('repair confirms holders and sends a replica again to one that lost it', async () => {
    cluster = new Cluster('memory', FILES_ON_DISK)
    const [a, b, c] = (await cluster.mesh(3, { replication: 2 })) as [TestNode, TestNode, TestNode]
    const file = randomFile(200_000)
    const { cid, replicas } = await a.server.put(file)
    expect(replicas).toHaveLength(2)
    const lost = [b, c].find((n) => n.server.nodeId === replicas[1]) as TestNode
    await rm(heldReplicaPath(lost, a, cid))

    const status = await a.server.repair()
    expect(status).toMatchObject({ healthy: 1, underReplicated: 0 })
    expect(await exists(heldReplicaPath(lost, a, cid))).toBe(true)
    expect(new Set((await a.server.stat(cid)).holders.map((h) => h.nodeId))).toEqual(new Set(replicas))
    await a.server.evictLocal(cid)
    const other = [b, c].find((n) => n !== lost) as TestNode
    await other.server.stop()
    const got = await a.server.get(cid)
    expect(got.source).toBe(lost.server.nodeId)
    expect((await readAll(got.stream)).equals(file)).toBe(true)
  })
})
