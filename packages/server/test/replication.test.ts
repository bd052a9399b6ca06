import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { deriveOwnerSecrets, locatorOf } from '@cas/crypto'
import { casPathTransform } from '@cas/store'
import { afterEach, describe, expect, it } from 'vitest'
import { Cluster, FILES_ON_DISK, MODES, type TestNode, waitFor } from './helpers/cluster.js'
import { randomFile, readAll } from './helpers/data.js'

/** Node ids of the running nodes whose store folder holds the owner's replica of `cid` (looked up on disk). */
async function holdersOf(nodes: TestNode[], owner: TestNode, cid: string): Promise<string[]> {
  const ownerId = owner.ownerKey.ownerId
  const path = casPathTransform(locatorOf(deriveOwnerSecrets(owner.ownerKey), cid))
  const out: string[] = []
  for (const node of nodes) {
    if (node.stopped || node === owner) continue
    const present = await access(join(node.dataDir, 'store', ownerId, path)).then(
      () => true,
      () => false,
    )
    if (present) out.push(node.server.nodeId)
  }
  return out.sort()
}

describe.each(MODES)('replication to 3 holders per put (5 nodes, R = 3) over %s', (mode) => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  async function setUp(opts: { repairInterval: number; repairGrace: number }) {
    cluster = new Cluster(mode, FILES_ON_DISK)
    const nodes = await cluster.mesh(5, { replication: 3, ...opts })
    const owner = nodes[0]!
    const others = nodes.slice(1).map((n) => n.server.nodeId)
    const files = Array.from({ length: 8 }, () => randomFile(50_000))
    const cids: string[] = []
    const placed = new Map<string, string[]>()
    for (const file of files) {
      const res = await owner.server.put(file)
      expect(res.underReplicated).toBe(false)
      const expected = [...res.replicas].sort()
      expect(expected).toHaveLength(3)
      expect(expected.every((id) => others.includes(id))).toBe(true)
      expect(await holdersOf(nodes, owner, res.cid)).toEqual(expected)
      cids.push(res.cid)
      placed.set(res.cid, expected)
    }
    // The put picks its holders before it knows the cid; the catalogue records them.
    const rankedHolders = (cid: string): string[] => placed.get(cid) ?? []
    return { nodes, owner, files, cids, rankedHolders }
  }

  it('places each object on exactly 3 holders and keeps every object readable with two holders stopped', async () => {
    const { nodes, owner, files, cids, rankedHolders } = await setUp({
      repairInterval: 0,
      repairGrace: 60_000,
    })
    // Stop two holders of the first object; every object keeps at least one live holder.
    const [a, b] = rankedHolders(cids[0]!)
    for (const id of [a, b]) await cluster.stop(nodes.find((n) => n.server.nodeId === id)!)
    for (const [i, cid] of cids.entries()) {
      expect(await owner.server.evictLocal(cid)).toBe(true)
      const got = await owner.server.get(cid)
      expect((await readAll(got.stream)).equals(files[i]!)).toBe(true)
    }
  }, 120_000)

  it('restores 3 live replicas of every object after a holder stops for longer than the grace period', async () => {
    const { nodes, owner, cids, rankedHolders } = await setUp({ repairInterval: 100, repairGrace: 300 })
    const statuses: unknown[] = []
    owner.server.on('repair', (s) => statuses.push(s))
    const placements = cids.map((cid) => rankedHolders(cid))
    const victimId = mostCommonHolder(placements)
    await cluster.stop(nodes.find((n) => n.server.nodeId === victimId)!)
    await waitFor(
      async () => {
        for (const cid of cids) if ((await holdersOf(nodes, owner, cid)).length < 3) return false
        return true
      },
      { what: 'repair to restore 3 live replicas of every object', timeout: 30_000 },
    )
    expect(await owner.server.repair()).toMatchObject({
      healthy: cids.length,
      underReplicated: 0,
      repairing: 0,
    })
    expect(statuses.length).toBeGreaterThan(0)
    for (const cid of cids) {
      const info = await owner.server.stat(cid)
      expect(info.holders.filter((h) => h.live)).toHaveLength(3)
    }
  }, 120_000)

  it('repairs objects whose owner evicted its local copy by relaying a live holder’s replica', async () => {
    const { nodes, owner, files, cids, rankedHolders } = await setUp({
      repairInterval: 100,
      repairGrace: 300,
    })
    for (const cid of cids) await owner.server.evictLocal(cid)
    const victimId = mostCommonHolder(cids.map((cid) => rankedHolders(cid)))
    await cluster.stop(nodes.find((n) => n.server.nodeId === victimId)!)
    await waitFor(
      async () => {
        for (const cid of cids) if ((await holdersOf(nodes, owner, cid)).length < 3) return false
        return true
      },
      { what: 'repair to restore 3 live replicas without local copies', timeout: 30_000 },
    )
    for (const [i, cid] of cids.entries()) {
      expect(await owner.server.has(cid)).toBe(false)
      expect((await readAll((await owner.server.get(cid)).stream)).equals(files[i]!)).toBe(true)
    }
  }, 120_000)

  it('reports objects as under-replicated while a holder is gone but within the grace period', async () => {
    const { nodes, owner, cids, rankedHolders } = await setUp({ repairInterval: 0, repairGrace: 60_000 })
    const victimId = rankedHolders(cids[0]!)[0]!
    await cluster.stop(nodes.find((n) => n.server.nodeId === victimId)!)
    await waitFor(() => !owner.transport.peer(victimId), { what: 'the owner to notice the stop' })
    const status = await owner.server.repair()
    const affected = cids.filter((cid) => rankedHolders(cid).includes(victimId)).length
    expect(status).toMatchObject({ healthy: cids.length - affected, underReplicated: affected })
  }, 120_000)
})

function mostCommonHolder(placements: string[][]): string {
  const counts = new Map<string, number>()
  for (const ids of placements) for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1)
  return [...counts.entries()].sort((x, y) => y[1] - x[1])[0]![0]
}
