import { randomBytes } from 'node:crypto'
import { readdir, stat, statfs } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { casPathTransform } from '@cas/store'
import { afterEach, describe, expect, it } from 'vitest'
import { HELD_REPLICA_OVERHEAD } from '../src/index.js'
import { signAction } from '../src/signatures.js'
import { Cluster, type TestNode } from './helpers/cluster.js'
import { iterate, makeReplica, storeRecords } from './helpers/replica.js'

const MiB = 1024 * 1024
/** Whether the temp folder's file system has an inode table (the cluster's data folders live there). */
const COUNTS_INODES = Number((await statfs(tmpdir())).files) > 0

/** Files and folders under a data folder, and the catalogue's size on disk (LMDB data file). */
async function footprint(dir: string): Promise<{ entries: number; lmdb: number }> {
  const entries = (await readdir(dir, { recursive: true })).length
  const lmdb = (await stat(join(dir, 'catalogue', 'catalogue.lmdb'))).blocks * 512
  return { entries, lmdb }
}

/** Runs `task` `count` times, `width` at a time. */
async function inParallel(count: number, width: number, task: () => Promise<unknown>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        next++
        await task()
      }
    }),
  )
}

/** A holder B and an owner A that signs whatever it likes in its own namespace (a hostile owner). */
describe('quotas and uploads against a hostile owner', () => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  async function setUp(quota: { total?: number; perOwner?: number }) {
    cluster = new Cluster('memory')
    const a = await cluster.add({ replication: 1 })
    const b = await cluster.add({ replication: 1, bootstrap: [a.addr], quota })
    const { waitFor } = await import('./helpers/cluster.js')
    await waitFor(() => a.transport.peer(b.server.nodeId) !== undefined, { what: 'a to reach b' })
    const peer = a.transport.peer(b.server.nodeId)!
    const store = (data: Uint8Array, opts: { locator?: string; issuedAt?: number } = {}) => {
      const r = makeReplica(a.ownerKey, data, { chunkSize: 256 * 1024, ...opts })
      return peer.request(
        { op: 'store', v: 2, ownerId: a.ownerKey.ownerId },
        { data: iterate(storeRecords(r.chunks, r.signed.bytes)) },
      )
    }
    return { a, b, peer, store }
  }

  const replicaFile = (b: TestNode, a: TestNode, locator: string) =>
    join(b.dataDir, 'store', a.ownerKey.ownerId, casPathTransform(locator))

  it('concurrent replacements of one replica leave the held bytes equal to what is on disk', async () => {
    const { a, b, store } = await setUp({ total: 8 * MiB })
    const locator = randomBytes(32).toString('hex')
    const t0 = Date.now() - 10_000
    await store(randomBytes(4 * MiB), { locator, issuedAt: t0 })
    // Four newer, smaller replicas of the same locator at once; the newest to commit wins, older ones are stale.
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map((i) => store(randomBytes(MiB / 4), { locator, issuedAt: t0 + i })),
    )
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true)
    // The replica's size is its file's, less the store's object header (magic, version, key length, key).
    const size = (await stat(replicaFile(b, a, locator))).size - (4 + 1 + 2 + locator.length)
    const held = (await b.server.status()).held
    expect(held).toEqual({ owners: 1, objects: 1, bytes: size + HELD_REPLICA_OVERHEAD })
    // So the quota still holds: 8 MiB less 100 KB does not fit beside the quarter MiB held.
    await expect(store(randomBytes(8 * MiB - 100_000))).rejects.toMatchObject({ remoteCode: 'ERR_QUOTA' })
  })

  it('charges every replica a fixed overhead, so a flood of empty replicas meets the quota', async () => {
    const { b, store } = await setUp({ total: 100 * 1024 })
    let stored = 0
    let refused: unknown
    for (let i = 0; i < 60 && refused === undefined; i++) {
      await store(new Uint8Array(0), { locator: randomBytes(32).toString('hex') }).then(
        () => stored++,
        (err: unknown) => {
          refused = err
        },
      )
    }
    expect(refused).toMatchObject({ remoteCode: 'ERR_QUOTA' })
    expect(stored).toBeLessThanOrEqual(Math.floor((100 * 1024) / HELD_REPLICA_OVERHEAD))
    expect((await b.server.status()).held.objects).toBe(stored)
  })

  it('writes no tombstone for a delete of a replica it does not hold', async () => {
    const { a, peer, store } = await setUp({})
    const locator = randomBytes(32).toString('hex')
    const fields = { ownerId: a.ownerKey.ownerId, locator, issuedAt: Date.now() }
    const del = { op: 'delete', ...fields, ...signAction(a.ownerKey, 'delete', fields) }
    expect(await peer.request(del)).toMatchObject({ body: { deleted: false } })
    // With a tombstone, a store signed before that delete would be refused as stale.
    await expect(
      store(randomBytes(1000), { locator, issuedAt: fields.issuedAt - 1000 }),
    ).resolves.toMatchObject({
      body: { stored: true },
    })
  })

  it('refuses an upload on an op that takes none, at once, and keeps serving', async () => {
    const { a, b, peer, store } = await setUp({})
    const upload = async function* () {
      for (let i = 0; i < 16; i++) yield randomBytes(1024 * 1024)
    }
    const has = { op: 'has', ownerId: a.ownerKey.ownerId, locators: [randomBytes(32).toString('hex')] }
    await expect(peer.request(has, { data: upload() })).rejects.toMatchObject({
      remoteCode: 'ERR_BAD_REQUEST',
    })
    await expect(peer.request(has)).resolves.toMatchObject({ body: { present: [false] } })
    await expect(store(randomBytes(1000))).resolves.toMatchObject({ body: { stored: true } })
    expect(b.transport.peers().length).toBe(1)
  })

  it('under 2,000 empty replicas and 10,000 deletes of unknown locators, counts each replica and keeps no tombstone', async () => {
    const { a, b, peer, store } = await setUp({})
    const before = await footprint(b.dataDir)
    const EMPTY = 2_000
    const DELETES = 10_000
    await inParallel(EMPTY, 16, () => store(new Uint8Array(0), { locator: randomBytes(32).toString('hex') }))
    const afterStores = await footprint(b.dataDir)
    await inParallel(DELETES, 64, () => {
      const fields = {
        ownerId: a.ownerKey.ownerId,
        locator: randomBytes(32).toString('hex'),
        issuedAt: Date.now(),
      }
      return peer.request({ op: 'delete', ...fields, ...signAction(a.ownerKey, 'delete', fields) })
    })
    const after = await footprint(b.dataDir)
    const held = (await b.server.status()).held
    console.log(
      `[figures] held-quota flood: entries ${before.entries} → ${afterStores.entries} after ${EMPTY} empty stores → ${after.entries} after ${DELETES} unknown deletes; catalogue ${before.lmdb} → ${afterStores.lmdb} → ${after.lmdb} bytes; held ${held.objects} objects, ${held.bytes} bytes charged`,
    )
    // Each empty replica is charged its fixed overhead (beside its commit), so a quota bounds them.
    expect(held.objects).toBe(EMPTY)
    expect(held.bytes).toBeGreaterThan(EMPTY * HELD_REPLICA_OVERHEAD)
    // The deletes of replicas never held leave nothing behind: no file, no tombstone row.
    expect(after.entries).toBe(afterStores.entries)
    expect(after.lmdb).toBeLessThanOrEqual(afterStores.lmdb + 64 * 1024)
  }, 120_000)

  // Needs a file system that counts inodes (ext4, xfs; not btrfs): skipped, visibly, elsewhere.
  it.skipIf(!COUNTS_INODES)(
    'refuses replicas once the disk would keep fewer than minFreeInodes inodes free',
    async () => {
      cluster = new Cluster('memory')
      const a = await cluster.add({ replication: 1 })
      const b = await cluster.add({ bootstrap: [a.addr], minFreeInodes: Number.MAX_SAFE_INTEGER })
      const { waitFor } = await import('./helpers/cluster.js')
      await waitFor(() => a.transport.peer(b.server.nodeId) !== undefined, { what: 'a to reach b' })
      const res = await a.server.put(randomBytes(10))
      expect(res.refused).toEqual([
        expect.objectContaining({
          nodeId: b.server.nodeId,
          code: 'ERR_DISK_FULL',
          message: expect.stringMatching(/inodes/),
        }),
      ])
      expect((await b.server.status()).held.objects).toBe(0)
    },
  )

  it('refuses replicas once the disk would keep less than minFreeDisk free', async () => {
    cluster = new Cluster('memory')
    const a = await cluster.add({ replication: 1 })
    // A floor above any disk's free space: every store is refused, by its own code.
    const b = await cluster.add({ bootstrap: [a.addr], minFreeDisk: Number.MAX_SAFE_INTEGER })
    const { waitFor } = await import('./helpers/cluster.js')
    await waitFor(() => a.transport.peer(b.server.nodeId) !== undefined, { what: 'a to reach b' })
    const res = await a.server.put(randomBytes(10_000))
    expect(res.refused).toEqual([expect.objectContaining({ nodeId: b.server.nodeId, code: 'ERR_DISK_FULL' })])
    expect((await b.server.status()).held.objects).toBe(0)
  })
})
