import { randomBytes } from 'node:crypto'
import { open, stat } from 'node:fs/promises'
import { deriveOwnerSecrets, locatorOf } from '@cas/crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { askHas } from '../src/protocol/has.js'
import { Cluster, type TestNode, waitFor } from './helpers/cluster.js'
import { randomFile } from './helpers/data.js'
import { heldReplicaPath } from './helpers/replica.js'

/**
 * Issue 14, item 5: a holder's `has: yes` is not proof. B holds A's only replica; its chunk bytes are
 * replaced on disk with other bytes of the same length (what a holder that kept only the commit, or a
 * rotted disk, looks like): B still answers `has` yes. Without audits the object counts as healthy for
 * ever; with them, A finds out within an audit round, stops counting B and replicates to C.
 */

const SIZE = 300_000

describe('audits of holders', () => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  /** Overwrites the chunk bytes of B's replica (all but its signed commit at the end) with random bytes. */
  async function hollowOut(path: string): Promise<void> {
    const f = await open(path, 'r+')
    try {
      await f.write(randomBytes(SIZE), 0, SIZE, 0)
    } finally {
      await f.close()
    }
  }

  async function setUp(opts: { auditRate: number }) {
    cluster = new Cluster('memory')
    const options = { replication: 1, auditRate: opts.auditRate, auditInterval: 50 } as const
    const [a, b] = (await cluster.mesh(2, options)) as [TestNode, TestNode]
    const { cid, replicas } = await a.server.put(randomFile(SIZE))
    expect(replicas).toEqual([b.transport.nodeId])
    const path = heldReplicaPath(b, a, cid)
    expect((await stat(path)).size).toBeGreaterThan(SIZE)
    await hollowOut(path)
    const hollowedAt = Date.now()
    // B still says it holds the replica.
    const peer = a.transport.peer(b.transport.nodeId)
    if (!peer) throw new Error('A lost B')
    const locator = locatorOf(deriveOwnerSecrets(a.ownerKey), cid)
    const ctx = { fetchTimeout: 5_000, ownerId: a.ownerKey.ownerId } as Parameters<typeof askHas>[0]
    expect(await askHas(ctx, peer, [locator])).toEqual([true])
    const c = await cluster.add({ ...options, bootstrap: [a.addr] })
    await waitFor(() => a.transport.peer(c.transport.nodeId) !== undefined, { what: 'A to meet C' })
    return { a, b, c, cid, hollowedAt }
  }

  it('before: with audits off, a hollowed-out replica behind a `has` yes counts as healthy', async () => {
    const { a, b, cid } = await setUp({ auditRate: 0 })
    const repair = await a.server.repair()
    expect(repair).toMatchObject({ healthy: 1, underReplicated: 0 })
    expect((await a.server.stat(cid)).holders.map((h) => h.nodeId)).toEqual([b.transport.nodeId])
    expect((await a.server.status()).audits).toBeUndefined()
  })

  it('after: an audit finds it, the holder no longer counts, and repair replicates elsewhere', async () => {
    const { a, b, c, cid, hollowedAt } = await setUp({ auditRate: 64 * 1024 * 1024 })
    await waitFor(async () => ((await a.server.status()).audits?.failed ?? 0) >= 1, {
      what: 'a failed audit',
      timeout: 20_000,
    })
    const detectedMs = Date.now() - hollowedAt
    await waitFor(
      async () => (await a.server.stat(cid)).holders.some((h) => h.nodeId === c.transport.nodeId),
      {
        what: 'the replica replaced on C',
        timeout: 20_000,
      },
    )
    const info = await a.server.stat(cid)
    expect(info.holders.map((h) => h.nodeId)).toEqual([c.transport.nodeId])
    expect(info.failedAudits).toEqual([expect.objectContaining({ nodeId: b.transport.nodeId })])
    console.log(
      `[figures] audit detection: ${detectedMs} ms from hollowing out to a failed audit (auditInterval 50 ms); failed with ${info.failedAudits[0]?.code}`,
    )
    // C's replica passes its audits; B is not audited (nor chosen) for this object again.
    await waitFor(async () => (await a.server.stat(cid)).holders[0]?.auditedAt !== undefined, {
      what: "an audit of C's replica",
      timeout: 20_000,
    })
    expect((await a.server.repair()).healthy).toBe(1)
    expect((await a.server.stat(cid)).holders.map((h) => h.nodeId)).toEqual([c.transport.nodeId])
  })

  it('spends no more than its rate on audits', async () => {
    cluster = new Cluster('memory')
    const rate = 1024 * 1024
    const [a] = (await cluster.mesh(3, { replication: 2, auditRate: rate, auditInterval: 0 })) as [TestNode]
    for (let i = 0; i < 4; i++) await a.server.put(randomFile(1536 * 1024))
    const first = (await a.server.status()).audits?.bytes ?? 0
    const started = Date.now()
    await waitFor(async () => ((await a.server.status()).audits?.passed ?? 0) >= 4, {
      what: 'four audits',
      timeout: 30_000,
    })
    const elapsed = (Date.now() - started) / 1000
    const spent = ((await a.server.status()).audits?.bytes ?? 0) - first
    // The bucket holds at most a quarter second's worth (at least 64 KiB), and one audit may borrow a chunk ahead.
    const allowed = rate * elapsed + Math.max(64 * 1024, rate / 4) + 1024 * 1024 + 4096
    console.log(
      `[figures] audit bandwidth: ${spent} bytes in ${elapsed.toFixed(2)} s at a rate of ${rate} B/s (allowed ${Math.round(allowed)})`,
    )
    expect(spent).toBeGreaterThan(0)
    expect(spent).toBeLessThanOrEqual(allowed)
  })
})
