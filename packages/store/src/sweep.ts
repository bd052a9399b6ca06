import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** A temporary whose writer still runs is kept, unless it is older than this (its pid was reused). */
export const STALE_TEMPORARY_MS = 24 * 60 * 60 * 1000

/** Removes temporaries left by writers that died (crash, kill -9) before they could rename or clean up. */
export async function sweepTemporaries(tmpDir: string): Promise<number> {
  let removed = 0
  for (const name of await readdir(tmpDir)) {
    const path = join(tmpDir, name)
    const pid = Number(/^(\d+)-/.exec(name)?.[1] ?? Number.NaN)
    if (Number.isSafeInteger(pid) && pid === process.pid) continue
    if (Number.isSafeInteger(pid) && isAlive(pid)) {
      const info = await stat(path).catch(() => undefined)
      if (!info || Date.now() - info.mtimeMs < STALE_TEMPORARY_MS) continue
    }
    await rm(path, { recursive: true, force: true })
    removed += 1
  }
  return removed
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
