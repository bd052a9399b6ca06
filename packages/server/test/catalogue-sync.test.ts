import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { AmbiguousRefError } from '../src/index.js'
import { Cluster, type TestNode, waitFor } from './helpers/cluster.js'
import { randomFile, readAll } from './helpers/data.js'

/**
 * Issue 15, items 1 and 2: the catalogue in the network. A node's names live in its log, whose
 * segments are ordinary replicated objects and whose head the peers hold; a new machine with only
 * the owner key gets the names back from them, and two machines of one owner converge.
 */

let cluster: Cluster
afterEach(async () => {
  await cluster.close()
})

const listing = async (node: TestNode) =>
  (await node.server.list())
    .map((o) => ({ cid: o.cid, names: [...o.names].sort() }))
    .sort((a, b) => a.cid.localeCompare(b.cid))

describe('the catalogue in the network', () => {
  it('comes back on a new machine that has only the owner key', async () => {
    cluster = new Cluster('memory')
    const options = { replication: 2, catalogueSyncInterval: 0 } as const
    const [a, h1] = (await cluster.mesh(3, options)) as [TestNode, TestNode, TestNode]
    const files = new Map<string, Buffer>()
    for (let i = 0; i < 12; i++) {
      const name = `${['photos', 'docs', 'music'][i % 3]}/file-${i}.bin`
      const bytes = randomFile(1_000 + i * 5_000)
      files.set(name, bytes)
      await a.server.put(bytes, { name })
    }
    const nameless = randomFile(2_000)
    await a.server.put(nameless)
    // A name written again names the new object; a deleted object is gone from the catalogue.
    const newer = randomFile(3_000)
    await a.server.put(newer, { name: 'docs/file-1.bin' })
    files.set('docs/file-1.bin', newer)
    const gone = (await a.server.resolveRef('music/file-2.bin')) as string
    await a.server.delete(gone)
    files.delete('music/file-2.bin')
    expect(await a.server.publishCatalogue()).toBeGreaterThanOrEqual(2)
    const before = await listing(a)

    // The machine is lost: its data folder with it.
    await cluster.stop(a)
    await rm(a.dataDir, { recursive: true, force: true })
    const started = Date.now()
    const d = await cluster.add({ ...options, ownerKey: a.ownerKey, bootstrap: [h1.addr] })
    await waitFor(() => d.transport.peers().length >= 1, { what: 'the new machine to meet a peer' })
    const result = await d.server.syncCatalogue()
    const restoredMs = Date.now() - started
    console.log(
      `[figures] catalogue restore: ${result.objects} objects, ${result.ops} ops from ${result.devices} device(s), ${result.segments} segment(s) in ${restoredMs} ms`,
    )
    expect(result).toMatchObject({ devices: 1, missing: 0 })
    expect(await listing(d)).toEqual(before)
    for (const [name, bytes] of files) {
      const got = await d.server.get(await d.server.resolveRef(name))
      expect((await readAll(got.stream)).equals(bytes)).toBe(true)
    }
    await expect(d.server.resolveRef('music/file-2.bin')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
  })

  it('comes back to a node whose catalogue was lost but not its store, which then writes as a new device', async () => {
    cluster = new Cluster('memory')
    const options = { replication: 1, catalogueSyncInterval: 0 } as const
    const [a, h] = (await cluster.mesh(2, options)) as [TestNode, TestNode]
    const before = await a.server.put(randomFile(3_000), { name: 'before.txt' })
    expect(await a.server.publishCatalogue()).toBe(1)
    await cluster.stop(a)
    await rm(join(a.dataDir, 'catalogue'), { recursive: true, force: true })
    const again = await cluster.add({
      ...options,
      ownerKey: a.ownerKey,
      dataDir: a.dataDir,
      identity: a.identity,
      bootstrap: [h.addr],
    })
    await waitFor(() => again.transport.peers().length >= 1, { what: 'the node to meet its peer' })
    // Rebuilt from the store at start: the object, but no name; the sync brings the name back.
    expect(await again.server.syncCatalogue()).toMatchObject({ devices: 1, missing: 0 })
    expect(await again.server.resolveRef('before.txt')).toBe(before.cid)
    const after = await again.server.put(randomFile(3_000), { name: 'after.txt' })
    expect(await again.server.publishCatalogue()).toBe(1)
    // Another machine of the owner sees both: the old ops were not overwritten by the new ones.
    const other = await cluster.add({ ...options, ownerKey: a.ownerKey, bootstrap: [h.addr] })
    await waitFor(() => other.transport.peers().length >= 1, { what: 'the other machine to meet the peer' })
    // (Its first sync may already have run when it met the peer: the heads are what count here.)
    expect(await other.server.syncCatalogue()).toMatchObject({ devices: 2, missing: 0 })
    expect(await other.server.resolveRef('before.txt')).toBe(before.cid)
    expect(await other.server.resolveRef('after.txt')).toBe(after.cid)
  })

  it('merges two machines of one owner that changed it apart (add, rename, delete, one name on both): nothing lost, a conflict shown', async () => {
    cluster = new Cluster('memory')
    // R = 2 with three nodes: every object also lands on the node that is not of this owner (a node
    // does not yet read a replica it holds for its own owner, as it reads its local copy).
    const options = { replication: 2, catalogueSyncInterval: 0 } as const
    const holder = await cluster.add(options)
    const laptop = await cluster.add({ ...options, bootstrap: [holder.addr] })
    const desktop = await cluster.add({ ...options, ownerKey: laptop.ownerKey, bootstrap: [holder.addr] })
    await waitFor(() => desktop.transport.peers().length >= 2 && laptop.transport.peers().length >= 2, {
      what: 'three connected nodes',
    })
    const shared = await laptop.server.put(randomFile(4_000), { name: 'shared.txt' })
    const old = await laptop.server.put(randomFile(4_000), { name: 'old.txt' })
    const draft = await laptop.server.put(randomFile(4_000), { name: 'draft.md' })
    expect(await laptop.server.publishCatalogue()).toBeGreaterThanOrEqual(1)
    const first = await desktop.server.syncCatalogue()
    expect(first).toMatchObject({ devices: 1, missing: 0 })
    expect((await listing(desktop)).map((o) => o.cid).sort()).toEqual([shared.cid, old.cid, draft.cid].sort())

    // Apart (neither syncs): both add, one deletes, both write notes.txt.
    const onLaptop = await laptop.server.put(randomFile(5_000), { name: 'from-laptop.txt' })
    const notesL = await laptop.server.put(randomFile(5_000), { name: 'notes.txt' })
    await laptop.server.delete(old.cid)
    expect(await laptop.server.rename('draft.md', 'final.md')).toEqual({
      cid: draft.cid,
      names: ['final.md'],
    })
    const onDesktop = await desktop.server.put(randomFile(5_000), { name: 'from-desktop.txt' })
    const notesD = await desktop.server.put(randomFile(5_000), { name: 'notes.txt' })
    await desktop.server.put(randomFile(1_000), { name: 'shared.txt' }) // replaces shared.txt there

    await Promise.all([laptop.server.publishCatalogue(), desktop.server.publishCatalogue()])
    await laptop.server.syncCatalogue()
    await desktop.server.syncCatalogue()
    const l = await listing(laptop)
    expect(JSON.stringify(await listing(desktop), null, 1)).toBe(JSON.stringify(l, null, 1))
    const cids = l.map((o) => o.cid)
    expect(cids).toEqual(
      expect.arrayContaining([shared.cid, onLaptop.cid, onDesktop.cid, notesL.cid, notesD.cid]),
    )
    expect(cids).not.toContain(old.cid)
    for (const node of [laptop, desktop]) {
      const err = await node.server.resolveRef('notes.txt').catch((e: unknown) => e)
      expect(err).toBeInstanceOf(AmbiguousRefError)
      expect((err as AmbiguousRefError).candidates.map((c) => c.cid).sort()).toEqual(
        [notesL.cid, notesD.cid].sort(),
      )
    }
    // The rename reached the desktop: the object under its new name only.
    expect(l.find((o) => o.cid === draft.cid)?.names).toEqual(['final.md'])
    await expect(desktop.server.resolveRef('draft.md')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
    // The desktop wrote shared.txt having seen the laptop's: the name moved, the old object stays.
    expect(l.find((o) => o.cid === shared.cid)?.names).toEqual([])
  })

  it('reads on one machine the replica it holds for its owner, once the machine that put it is gone', async () => {
    cluster = new Cluster('memory')
    const options = { replication: 1, catalogueSyncInterval: 0 } as const
    const [laptop] = (await cluster.mesh(1, options)) as [TestNode]
    const desktop = await cluster.add({ ...options, ownerKey: laptop.ownerKey, bootstrap: [laptop.addr] })
    await waitFor(() => laptop.transport.peers().length >= 1, { what: 'the two machines to meet' })
    const bytes = randomFile(2_500_000)
    // The desktop is the laptop's only peer: it holds the one replica, in its held store.
    const put = await laptop.server.put(bytes, { name: 'thesis.pdf' })
    expect(put.replicas).toEqual([desktop.transport.nodeId])
    await laptop.server.publishCatalogue()
    await desktop.server.syncCatalogue()
    await cluster.stop(laptop)
    const got = await desktop.server.get(await desktop.server.resolveRef('thesis.pdf'))
    expect(got.source).toBe('local')
    expect((await readAll(got.stream)).equals(bytes)).toBe(true)
  })

  it("keeps names, paths and plaintext cids off the holders' disks", async () => {
    cluster = new Cluster('memory')
    const options = { replication: 2, catalogueSyncInterval: 0 } as const
    const [a, ...holders] = (await cluster.mesh(3, options)) as [TestNode, TestNode, TestNode]
    const marker = `secret-marker-${Date.now()}`
    const put = await a.server.put(randomFile(10_000), { name: `${marker}/path/${marker}.txt` })
    // A snapshot's trees hold paths and symlink targets: sealed like every other replica.
    const file = { type: 'file', mode: 0o644, mtime: 0, size: put.size, cid: put.cid } as const
    await a.server.putSnapshot(`${marker}-root`, [
      { ...file, path: `${marker}-dir/${marker}.txt` },
      { type: 'symlink', path: `${marker}-link`, mtime: 0, target: `../${marker}-target` },
    ])
    expect(await a.server.publishCatalogue()).toBe(2)
    for (const h of holders) {
      for (const file of await filesUnder(h.dataDir)) {
        const text = (await readFile(file)).toString('latin1')
        expect(text.includes(marker), file).toBe(false)
        expect(text.includes(put.cid), file).toBe(false)
      }
    }
  })
})

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await filesUnder(path)))
    else if (entry.isFile()) out.push(path)
  }
  return out
}
