import { randomBytes } from 'node:crypto'
import { appendFile, readdir, stat, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store } from '../src/index.js'
import { filesUnder, readAll, sha256, tempDir } from './helpers.js'

/** Issue 13: small objects appended to packs, written together with one fsync per batch. */

const PACK_BELOW = 64 * 1024

async function packedStore(root?: string): Promise<Store> {
  const store = new Store({ root: root ?? (await tempDir()), packBelow: PACK_BELOW })
  await store.open()
  return store
}

const objectFiles = async (root: string) =>
  (await filesUnder(root)).filter((f) => !f.startsWith('.packs/') && !f.startsWith('.tmp/'))

describe('packed small objects', () => {
  it('keeps objects up to packBelow in packs and larger ones in files, each read back whole and by range', async () => {
    const root = await tempDir()
    const store = await packedStore(root)
    const small = randomBytes(PACK_BELOW)
    const large = randomBytes(PACK_BELOW + 1)
    const a = await store.put(small)
    const b = await store.put(large)
    expect(await readAll(store.read(a.key))).toEqual(small)
    expect(await readAll(store.read(b.key))).toEqual(large)
    expect(await readAll(store.read(a.key, { start: 10, end: 19 }))).toEqual(small.subarray(10, 20))
    expect(await readAll(store.read(a.key, { start: PACK_BELOW + 5 }))).toEqual(Buffer.alloc(0))
    await expect(readAll(store.read(a.key, { start: 5, end: 1 }))).rejects.toMatchObject({
      code: 'ERR_INVALID_RANGE',
    })
    expect(await store.stat(a.key)).toMatchObject({ size: PACK_BELOW })
    expect(await store.has(a.key)).toBe(true)
    // One file of its own: the large object; the small one is in a pack.
    expect((await objectFiles(root)).length).toBe(1)
    expect((await readdir(join(root, '.packs'))).length).toBe(1)
    // The same bytes again are stored once.
    await store.put(small)
    expect(store.packStats()?.records).toBe(1)
  })

  it('shares one fsync among writes that arrive together, and acknowledges each once durable', async () => {
    const store = await packedStore()
    const data = Array.from({ length: 64 }, () => randomBytes(1024))
    const keys = await Promise.all(data.map((d) => store.put(d)))
    const stats = store.packStats()
    expect(stats?.records).toBe(64)
    expect(stats?.flushes).toBeLessThan(64)
    for (const [i, { key }] of keys.entries()) expect(await readAll(store.read(key))).toEqual(data[i])
    // A lone write is written at once: one more batch of one record.
    await store.put(randomBytes(10))
    expect(store.packStats()?.flushes).toBe((stats?.flushes ?? 0) + 1)
  })

  it('writes the commits issued in one turn as one batch, the first of them included', async () => {
    const store = await packedStore()
    const writers = await Promise.all(Array.from({ length: 16 }, () => store.writer({ keyBytes: 8 })))
    for (const w of writers) await w.append(randomBytes(1000))
    const before = store.packStats()?.flushes ?? 0
    await Promise.all(writers.map((w, i) => w.commit(`key-${String(i).padStart(4, '0')}`)))
    expect(store.packStats()?.flushes).toBe(before + 1)
    expect(store.packStats()?.records).toBe(16)
  })

  it('lists, counts, replaces and deletes packed objects beside filed ones', async () => {
    const root = await tempDir()
    const store = await packedStore(root)
    await store.write('k1', [Buffer.from('small')], { namespace: 'owner1' })
    await store.write('k2', [randomBytes(PACK_BELOW * 2)], { namespace: 'owner1' })
    expect([...(await collect(store.list('owner1')))].sort()).toEqual(['k1', 'k2'])
    expect(await store.usage('owner1')).toEqual({ bytes: 5 + PACK_BELOW * 2, count: 2 })
    expect(await collect(store.namespaces())).toContain('owner1')
    // A small write over a filed object: the file goes; a large write over a packed one: the pack's copy goes.
    await store.write('k2', [Buffer.from('now small')], { namespace: 'owner1' })
    await store.write('k1', [randomBytes(PACK_BELOW * 3)], { namespace: 'owner1' })
    expect((await readAll(store.read('k2', { namespace: 'owner1' }))).toString()).toBe('now small')
    expect((await store.stat('k1', { namespace: 'owner1' })).size).toBe(PACK_BELOW * 3)
    expect((await objectFiles(root)).length).toBe(1)
    expect(await store.usage('owner1')).toEqual({ bytes: 9 + PACK_BELOW * 3, count: 2 })
    expect(await store.delete('k2', { namespace: 'owner1' })).toBe(true)
    expect(await store.delete('k2', { namespace: 'owner1' })).toBe(false)
    expect(await store.has('k2', { namespace: 'owner1' })).toBe(false)
    await expect(readAll(store.read('k2', { namespace: 'owner1' }))).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
    })
  })

  it('removes the file of an earlier large write found by a store opened later, and skips the look where no file can be', async () => {
    const root = await tempDir()
    const first = await packedStore(root)
    await first.write('big', [randomBytes(PACK_BELOW * 2)], { namespace: 'owner1' })
    await first.close()
    expect((await objectFiles(root)).length).toBe(1)
    // A store opened on the same root learns that owner1 may hold files from its folder.
    const later = await packedStore(root)
    await later.write('big', [Buffer.from('small now')], { namespace: 'owner1' })
    expect((await objectFiles(root)).length).toBe(0)
    expect((await readAll(later.read('big', { namespace: 'owner1' }))).toString()).toBe('small now')
    // A namespace with no folder gets packed writes only; a large write later gives it a file as usual.
    await later.write('k', [Buffer.from('packed')], { namespace: 'owner2' })
    await later.write('k', [randomBytes(PACK_BELOW * 2)], { namespace: 'owner2' })
    await later.write('k', [Buffer.from('packed again')], { namespace: 'owner2' })
    expect((await objectFiles(root)).length).toBe(0)
    expect((await readAll(later.read('k', { namespace: 'owner2' }))).toString()).toBe('packed again')
    await later.close()
  })

  it('comes back after a restart (the index rebuilt from the packs), also with packing turned off', async () => {
    const root = await tempDir()
    const store = await packedStore(root)
    const kept = randomBytes(3000)
    const { key } = await store.put(kept)
    const gone = await store.put(randomBytes(100))
    await store.delete(gone.key)
    await store.close()
    const again = new Store({ root })
    expect(await readAll(again.read(key))).toEqual(kept)
    expect(await again.has(gone.key)).toBe(false)
    expect([...(await collect(again.list()))]).toEqual([key])
    await again.close()
  })

  it('appends after the records already there when opened again (nothing written earlier is overwritten)', async () => {
    const root = await tempDir()
    const written: string[] = []
    for (let run = 0; run < 3; run++) {
      const store = await packedStore(root)
      for (const key of written) expect(sha256(await readAll(store.read(key))), `run ${run}`).toBe(key)
      const batch = await Promise.all(
        Array.from({ length: 5 }, (_, i) => store.put(randomBytes(500 + i * 700))),
      )
      written.push(...batch.map((w) => w.key))
      await store.close()
    }
    const store = await packedStore(root)
    for (const key of written) expect(sha256(await readAll(store.read(key)))).toBe(key)
    expect(await collect(store.list())).toHaveLength(written.length)
    await store.close()
  })

  it('cuts off a batch a crash left half-written, keeping every acknowledged object', async () => {
    const root = await tempDir()
    const store = await packedStore(root)
    const acknowledged = await Promise.all(Array.from({ length: 20 }, () => store.put(randomBytes(2000))))
    await store.close()
    const pack = join(root, '.packs', (await readdir(join(root, '.packs')))[0] as string)
    const whole = (await stat(pack)).size
    // A torn record at the end: its header and part of its body, as a power cut mid-write leaves it.
    const torn = await packedStore(await tempDir())
    await torn.write('torn', [randomBytes(5000)])
    await torn.close()
    const tornPack = join(torn.root, '.packs', (await readdir(join(torn.root, '.packs')))[0] as string)
    const { readFile } = await import('node:fs/promises')
    await appendFile(pack, (await readFile(tornPack)).subarray(0, 3000))
    const reopened = await packedStore(root)
    for (const { key } of acknowledged) expect(sha256(await readAll(reopened.read(key)))).toBe(key)
    expect(await reopened.has('torn')).toBe(false)
    expect((await stat(pack)).size).toBe(whole)
    // And it takes new writes after the cut, leaving the others as they were.
    const after = await reopened.put(randomBytes(700))
    expect(sha256(await readAll(reopened.read(after.key)))).toBe(after.key)
    for (const { key } of acknowledged) expect(sha256(await readAll(reopened.read(key)))).toBe(key)
    await reopened.close()
    await truncate(tornPack, 0)
  })
})

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}
