import { tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { type DiskCounts, DiskGuard } from '../src/disk-guard.js'
import { LowDiskError } from '../src/errors.js'

const MiB = 1024 * 1024

/** A file system with `free` bytes and `inodes` free inodes; counts its readings. */
function disk(free: number, inodes = 1_000_000) {
  const d = {
    reads: 0,
    free,
    statfs: async (): Promise<DiskCounts> => {
      d.reads += 1
      return { bavail: d.free / 4096, bsize: 4096, ffree: inodes, files: inodes > 0 ? 2_000_000 : 0 }
    },
  }
  return d
}

/** A guard keeping 900 MiB free on `d`, one reading serving `maxAge` ms. */
function guardOn(d: ReturnType<typeof disk>, maxAge: number): DiskGuard {
  return new DiskGuard({ root: tmpdir(), minFree: 900 * MiB, minInodes: 10, maxAge, statfs: d.statfs })
}

describe('DiskGuard', () => {
  it('counts the bytes it let in against one reading, and refuses what would cross the floor', async () => {
    const d = disk(1000 * MiB)
    const guard = guardOn(d, 3_600_000)
    await guard.check(60 * MiB)
    await guard.check(30 * MiB)
    await expect(guard.check(20 * MiB)).rejects.toBeInstanceOf(LowDiskError)
    // a refused replica is not counted: a smaller one still fits
    await guard.check(5 * MiB)
    expect(d.reads).toBe(1)
  })

  it('checks that arrive together share one reading', async () => {
    const d = disk(1000 * MiB)
    const guard = guardOn(d, 3_600_000)
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => guard.check(10 * MiB)))
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10)
    expect(
      results.filter((r) => r.status === 'rejected').every((r) => r.reason instanceof LowDiskError),
    ).toBe(true)
    expect(d.reads).toBe(1)
  })

  it('reads the disk again once its reading is older than maxAge, and forgets what it let in', async () => {
    const d = disk(1000 * MiB)
    const guard = guardOn(d, 0)
    for (let i = 0; i < 5; i++) await guard.check(60 * MiB)
    expect(d.reads).toBe(5)
    d.free = 950 * MiB
    await expect(guard.check(60 * MiB)).rejects.toBeInstanceOf(LowDiskError)
  })

  it('refuses when inodes run short, where the file system counts them', async () => {
    const few = disk(1000 * MiB, 5)
    await expect(
      new DiskGuard({ root: tmpdir(), minFree: MiB, minInodes: 10, statfs: few.statfs }).check(1),
    ).rejects.toBeInstanceOf(LowDiskError)
    const uncounted = disk(1000 * MiB, 0)
    await new DiskGuard({ root: tmpdir(), minFree: MiB, minInodes: 10, statfs: uncounted.statfs }).check(1)
  })

  it('reads the real file system by default, and is off with a floor of 0', async () => {
    await new DiskGuard({ root: tmpdir(), minFree: 1, minInodes: 1 }).check(1)
    await new DiskGuard({ root: '/nonexistent/path', minFree: 0, minInodes: 0 }).check(
      Number.MAX_SAFE_INTEGER,
    )
  })
})
