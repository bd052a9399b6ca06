import { rm } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import type { SnapshotEntry } from '../src/index.js'
import { Cluster, type TestNode, waitFor } from './helpers/cluster.js'
import { randomFile } from './helpers/data.js'

/**
 * Issue 15, item 3: a folder is a snapshot whose trees (one per folder) are internal objects; a
 * folder unchanged since the last snapshot keeps its tree, which is neither stored nor sent again.
 */

let cluster: Cluster
afterEach(async () => {
  await cluster.close()
})

async function putFolder(
  node: TestNode,
  root: string,
  files: Record<string, Buffer>,
): Promise<SnapshotEntry[]> {
  const entries: SnapshotEntry[] = [{ type: 'dir', path: '.', mode: 0o750, mtime: 1_700_000_000_000 }]
  for (const [path, bytes] of Object.entries(files)) {
    const { cid, size } = await node.server.put(bytes, { name: `${root}/${path}` })
    entries.push({ type: 'file', path, mode: 0o640, mtime: 1_700_000_001_000, size, cid })
  }
  entries.push({ type: 'symlink', path: 'docs/latest', mtime: 1_700_000_002_000, target: '../../outside' })
  entries.push({ type: 'dir', path: 'empty', mode: 0o700, mtime: 1_700_000_003_000 })
  return entries
}

const byPath = (entries: readonly SnapshotEntry[]) =>
  [...entries].sort((a, b) => a.path.localeCompare(b.path)).map(({ ...e }) => e)

describe('snapshots', () => {
  it('lists a folder as it was put, and stores only the trees that changed', async () => {
    cluster = new Cluster('memory')
    const [a] = (await cluster.mesh(2, { replication: 1, catalogueSyncInterval: 0 })) as [TestNode, TestNode]
    const files = {
      'a.txt': randomFile(100),
      'docs/b.bin': randomFile(5_000),
      'docs/deep/c.bin': randomFile(7_000),
      'photos/d.jpg': randomFile(9_000),
    }
    const entries = await putFolder(a, 'home', files)
    const first = await a.server.putSnapshot('home', entries)
    // the root, docs, docs/deep, photos and empty
    expect(first).toMatchObject({ root: 'home', files: 4, bytes: 21_100, stored: 5 })

    const got = await a.server.snapshot(first.id)
    // Folders implied by their files come back with the default mode.
    const implied = ['docs', 'docs/deep', 'photos'].map((path) => ({
      type: 'dir',
      path,
      mode: 0o755,
      mtime: 0,
    }))
    expect(byPath(got.entries)).toEqual(byPath([...entries, ...implied] as SnapshotEntry[]))

    // One file in photos changes: photos and the root get new trees; docs, docs/deep and empty do not.
    const changed = randomFile(9_001)
    const { cid } = await a.server.put(changed, { name: 'home/photos/d.jpg' })
    const second = await a.server.putSnapshot(
      'home',
      entries.map((e) => (e.path === 'photos/d.jpg' ? { ...e, cid, size: 9_001 } : e)),
    )
    expect(second.stored).toBe(2)
    expect(a.server.snapshots().map((s) => s.id)).toEqual([first.id, second.id])
    // The first snapshot still lists the old file.
    const old = (await a.server.snapshot(first.id)).entries.find((e) => e.path === 'photos/d.jpg')
    expect(old).toMatchObject({ size: 9_000 })
    // Snapshot trees are records of the catalogue, not objects a user lists.
    expect((await a.server.list()).length).toBe(5)
  })

  it('refuses a listing that is not a tree, or names a file not put', async () => {
    cluster = new Cluster('memory')
    const [a] = (await cluster.mesh(1, { catalogueSyncInterval: 0 })) as [TestNode]
    const { cid } = await a.server.put(randomFile(10), { name: 'x/f' })
    const file = { type: 'file', mode: 0o644, mtime: 0, size: 10, cid } as const
    await expect(
      a.server.putSnapshot('x', [
        { ...file, path: 'f' },
        { ...file, path: 'f/g' },
      ]),
    ).rejects.toMatchObject({
      code: 'ERR_BAD_REQUEST',
      message: expect.stringContaining('"f" is not a folder'),
    })
    await expect(
      a.server.putSnapshot('x', [
        { ...file, path: 'f' },
        { ...file, path: 'f' },
      ]),
    ).rejects.toMatchObject({ code: 'ERR_BAD_REQUEST' })
    await expect(
      a.server.putSnapshot('x', [{ ...file, path: 'f', cid: 'ab'.repeat(32) }]),
    ).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
    })
    await expect(a.server.snapshot('nope')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
    expect(a.server.snapshots()).toEqual([])
  })

  it('comes back with the catalogue on a new machine, trees read from the holders', async () => {
    cluster = new Cluster('memory')
    const options = { replication: 2, catalogueSyncInterval: 0 } as const
    const [a, h1] = (await cluster.mesh(3, options)) as [TestNode, TestNode, TestNode]
    const entries = await putFolder(a, 'work', {
      'notes.md': randomFile(300),
      'src/main.ts': randomFile(3_000),
    })
    const snap = await a.server.putSnapshot('work', entries)
    await a.server.publishCatalogue()
    await cluster.stop(a)
    await rm(a.dataDir, { recursive: true, force: true })
    const d = await cluster.add({ ...options, ownerKey: a.ownerKey, bootstrap: [h1.addr] })
    await waitFor(() => d.transport.peers().length >= 1, { what: 'the new machine to meet a peer' })
    await d.server.syncCatalogue()
    expect(d.server.snapshots()).toEqual([
      { id: snap.id, root: 'work', at: snap.at, tree: snap.tree, files: 2, bytes: 3_300 },
    ])
    const got = await d.server.snapshot(snap.id.slice(0, 8))
    expect(got.entries.filter((e) => e.type !== 'dir').length).toBe(3)
    expect(got.entries.find((e) => e.path === 'docs/latest')).toMatchObject({ target: '../../outside' })
  })
})
