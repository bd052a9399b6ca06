import { randomBytes } from 'node:crypto'
import type * as FsPromises from 'node:fs/promises'
import { describe, expect, it, vi } from 'vitest'
import { Store } from '../src/index.js'
import { readAll, sha256, tempDir } from './helpers.js'

// Real files; only writes to pack files fail with ENOSPC while `full` is set, as on a full disk.
const disk = vi.hoisted(() => ({ full: false }))

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof FsPromises>()
  const open: typeof real.open = async (...args) => {
    const handle = await real.open(...args)
    if (!String(args[0]).endsWith('.dat')) return handle
    const writev = handle.writev.bind(handle)
    Object.assign(handle, {
      writev: async (buffers: NodeJS.ArrayBufferView[], position?: number) => {
        if (disk.full) {
          // Part of the batch reaches the file before the disk fills, as a real short write would leave it.
          await writev(buffers.slice(0, 1), position)
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
            code: 'ENOSPC',
            errno: -28,
          })
        }
        return writev(buffers, position)
      },
    })
    return handle
  }
  return { ...real, open, default: { ...real, open } }
})

describe('packs on a full disk', () => {
  it('fails every write of the batch with ERR_DISK_FULL, keeps what was there, and works once space is freed', async () => {
    const root = await tempDir()
    const store = new Store({ root, packBelow: 64 * 1024 })
    const kept = await store.put(randomBytes(1000))
    disk.full = true
    const failed = await Promise.allSettled(Array.from({ length: 5 }, () => store.put(randomBytes(2000))))
    for (const r of failed) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'ERR_DISK_FULL' } })
    disk.full = false
    const after = await store.put(randomBytes(3000))
    expect(sha256(await readAll(store.read(kept.key)))).toBe(kept.key)
    expect(sha256(await readAll(store.read(after.key)))).toBe(after.key)
    await store.close()
    // After a restart: the objects acknowledged, none of the failed batch.
    const again = new Store({ root, packBelow: 64 * 1024 })
    const listed: string[] = []
    for await (const key of again.list()) listed.push(key)
    expect(listed.sort()).toEqual([kept.key, after.key].sort())
    await again.close()
  })
})
