import { randomBytes } from 'node:crypto'
import type * as FsPromises from 'node:fs/promises'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Store } from '../src/index.js'
import { readAll, tempDir } from './helpers.js'

// The file system is real; only writes to temporaries fail with ENOSPC once `budget` bytes have gone through,
// as they would on a full disk. (A real tiny file system needs mount rights that CI machines may not have.)
const disk = vi.hoisted(() => ({ budget: Number.POSITIVE_INFINITY }))

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof FsPromises>()
  const open: typeof real.open = async (...args) => {
    const handle = await real.open(...args)
    if (!String(args[0]).endsWith('.tmp')) return handle
    const write = handle.write.bind(handle) as (...a: unknown[]) => Promise<{ bytesWritten: number }>
    Object.assign(handle, {
      write: async (
        buffer: Uint8Array,
        offset = 0,
        length = buffer.byteLength - offset,
        position?: number,
      ) => {
        if (length > disk.budget) {
          const err = Object.assign(new Error('ENOSPC: no space left on device, write'), {
            code: 'ENOSPC',
            errno: -28,
            syscall: 'write',
          })
          throw err
        }
        disk.budget -= length
        return write(buffer, offset, length, position)
      },
    })
    return handle
  }
  return { ...real, open, default: { ...real, open } }
})

afterEach(() => {
  disk.budget = Number.POSITIVE_INFINITY
})

describe('a full disk', () => {
  it('fails a put with ERR_DISK_FULL, removes the temporary and keeps existing objects', async () => {
    const store = new Store({ root: await tempDir() })
    const kept = await store.put(randomBytes(1000))
    disk.budget = 2 * 1024 * 1024
    await expect(store.put(randomBytes(5 * 1024 * 1024))).rejects.toMatchObject({
      code: 'ERR_DISK_FULL',
      message: expect.stringContaining('no space left'),
    })
    expect(await readdir(join(store.root, '.tmp'))).toEqual([])
    expect((await readAll(store.read(kept.key))).length).toBe(1000)
    expect(await store.usage()).toEqual({ bytes: 1000, count: 1 })
  })

  it('works again once space is freed', async () => {
    const store = new Store({ root: await tempDir() })
    disk.budget = 10
    await expect(store.write('k', randomBytes(100))).rejects.toMatchObject({ code: 'ERR_DISK_FULL' })
    disk.budget = Number.POSITIVE_INFINITY
    await store.write('k', randomBytes(100))
    expect((await store.stat('k')).size).toBe(100)
  })
})
