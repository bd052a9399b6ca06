import { randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { buffer, text } from 'node:stream/consumers'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { Store } from '../src/index.js'
import { tempDir } from './helpers.js'

describe('Store.writer', () => {
  let store: Store

  beforeEach(async () => {
    store = new Store({ root: await tempDir() })
    await store.open()
  })

  it('stores what was appended under the key given at commit, and nothing before', async () => {
    const key = randomBytes(32).toString('hex')
    const w = await store.writer({ namespace: 'ns' })
    await w.append(Buffer.from('hello '))
    await w.append(Buffer.from('world'))
    expect(w.size).toBe(11)
    expect(await store.has(key, { namespace: 'ns' })).toBe(false)
    await w.commit(key)
    expect(await text(store.read(key, { namespace: 'ns' }))).toBe('hello world')
    expect(await store.stat(key, { namespace: 'ns' })).toMatchObject({ size: 11 })
    expect([...(await collect(store.list('ns')))]).toEqual([key])
  })

  it('starts flushing a large object to the disk while it is written, and keeps every byte', async () => {
    const MiB = 1024 * 1024
    const piece = randomBytes(MiB)
    const w = await store.writer({ namespace: 'ns' })
    // A FileHandle's datasync, counted: the early flushes are the only ones before commit.
    const handle = await (await import('node:fs/promises')).open(join(store.root, 'probe'), 'w')
    const proto = Object.getPrototypeOf(handle) as { datasync: () => Promise<void> }
    await handle.close()
    const datasync = vi.spyOn(proto, 'datasync')
    try {
      for (let i = 0; i < 130; i++) await w.append(piece)
      expect(datasync.mock.calls.length).toBeGreaterThanOrEqual(1)
      const key = randomBytes(32).toString('hex')
      await w.commit(key)
      expect(datasync).toHaveBeenCalledTimes(2) // at 64 and 128 MiB
      const back = await buffer(store.read(key, { namespace: 'ns' }))
      expect(back.byteLength).toBe(130 * MiB)
      expect(back.subarray(129 * MiB).equals(piece)).toBe(true)
    } finally {
      datasync.mockRestore()
    }
  })

  it('replaces an object already under the key', async () => {
    const key = 'k'.repeat(64)
    await store.write(key, Buffer.from('old bytes'), { namespace: 'ns' })
    const w = await store.writer({ namespace: 'ns' })
    await w.append(Buffer.from('new'))
    await w.commit(key)
    expect(await text(store.read(key, { namespace: 'ns' }))).toBe('new')
  })

  it('refuses a key of another length and leaves no temporary behind after discard', async () => {
    const w = await store.writer({ namespace: 'ns', keyBytes: 8 })
    await w.append(Buffer.from('x'))
    await expect(w.commit('too-long-key')).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' })
    await w.discard()
    expect(await readdir(join(store.root, '.tmp'))).toEqual([])
    expect(await store.has('too-long-key', { namespace: 'ns' })).toBe(false)
  })
})

async function collect(it: AsyncIterable<string>): Promise<Set<string>> {
  const out = new Set<string>()
  for await (const k of it) out.add(k)
  return out
}
