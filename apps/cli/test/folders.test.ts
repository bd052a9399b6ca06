import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import {
  chmod,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises'
import { join } from 'node:path'
import { ObjectListSchema, PeerListSchema, SnapshotInfoSchema, SnapshotListSchema } from '@cas/api'
import type { NodeProcess } from '@cas/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as z from 'zod'
import { EXIT_FAILURE } from '../src/index.js'
import { CAS_BIN, Cluster, cas, shell, waitFor } from './helpers/cluster.js'

/**
 * Issue 15, item 3 with real processes: `put -r` stores a folder as a snapshot and sends only
 * what changed since the last one; `get -r` writes a snapshot or a path back; `snapshots` lists them.
 */

const cluster = new Cluster()
let node: NodeProcess
let dir: string
let env: NodeJS.ProcessEnv

const PutFolderResult = SnapshotInfoSchema.extend({
  sent: z.number(),
  sentBytes: z.number(),
  unchanged: z.number(),
  skipped: z.number(),
})

beforeAll(async () => {
  dir = await cluster.dir()
  node = await cluster.add(['--replication', '1'])
  await cluster.add(['--replication', '1'])
  env = cluster.envFor(node)
  await waitFor(async () => {
    const r = await cas(['--json', 'peers'], { env })
    return PeerListSchema.parse(JSON.parse(r.text)).some((p) => p.connected) ? true : undefined
  }, 30_000)
}, 120_000)
afterAll(() => cluster.stop(), 60_000)

/** A folder with nested folders, an empty one, modes, times, two symlinks and one file above 1 MiB. */
async function makeFolder(root: string): Promise<void> {
  await mkdir(join(root, 'docs/deep'), { recursive: true })
  await mkdir(join(root, 'empty'), { recursive: true })
  for (let i = 0; i < 12; i++) {
    const path = join(root, i < 4 ? '' : i < 8 ? 'docs' : 'docs/deep', `f${i}.bin`)
    await writeFile(path, randomBytes(100 + i * 3_000))
    await utimes(path, new Date(1_600_000_000_000 + i * 1_000), new Date(1_600_000_000_000 + i * 1_000 + 123))
  }
  // Above the size the CLI reads whole: this one goes through a read stream.
  await writeFile(join(root, 'big.bin'), randomBytes(1024 * 1024 + 4_321))
  await chmod(join(root, 'f0.bin'), 0o600)
  await chmod(join(root, 'docs/f5.bin'), 0o755)
  await chmod(join(root, 'empty'), 0o700)
  await symlink('docs/f4.bin', join(root, 'link-in'))
  await symlink('/etc/hostname', join(root, 'docs/link-out'))
  await utimes(join(root, 'docs'), new Date(1_650_000_000_000), new Date(1_650_000_000_000))
}

/** Every path under `root` with what a restore must give back. */
async function describeTree(root: string, rel = ''): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const name of (await readdir(join(root, rel))).sort()) {
    const path = rel === '' ? name : `${rel}/${name}`
    const info = await lstat(join(root, path))
    if (info.isSymbolicLink()) out[path] = { link: await readlink(join(root, path)) }
    else if (info.isDirectory()) {
      out[path] = { dir: info.mode & 0o7777, mtime: Math.floor(info.mtimeMs) }
      Object.assign(out, await describeTree(root, path))
    } else {
      const bytes = await readFile(join(root, path))
      out[path] = {
        mode: info.mode & 0o7777,
        mtime: Math.floor(info.mtimeMs),
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      }
    }
  }
  return out
}

describe('cas put -r and get -r', () => {
  it('stores a folder as a snapshot and writes it back as it was', async () => {
    const src = join(dir, 'album')
    await makeFolder(src)
    const r = await cas(['--json', 'put', '-r', src], { env })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const first = PutFolderResult.parse(JSON.parse(r.text))
    expect(first).toMatchObject({ root: 'album', files: 13, sent: 13, unchanged: 0, skipped: 0 })

    const names = ObjectListSchema.parse(
      JSON.parse((await cas(['--json', 'ls', 'album/docs'], { env })).text),
    )
    expect(names.flatMap((o) => o.names).sort()).toEqual(
      [4, 5, 6, 7, 8, 9, 10, 11].map((i) => `album/docs/${i < 8 ? '' : 'deep/'}f${i}.bin`).sort(),
    )
    const listed = SnapshotListSchema.parse(JSON.parse((await cas(['--json', 'snapshots'], { env })).text))
    expect(listed.map((s) => s.id)).toContain(first.id)

    const out = join(dir, 'album-back')
    const back = await cas(['get', '-r', first.id.slice(0, 10), '-o', out], { env })
    expect(back.stderr).toContain('13 file(s), 2 symlink(s)')
    expect(back.code).toBe(0)
    expect(await describeTree(out)).toEqual(await describeTree(src))
    expect(Math.floor((await stat(out)).mtimeMs)).toBe(Math.floor((await stat(src)).mtimeMs))
  })

  it('a second put -r sends only the changed and new files; the first snapshot still has the old ones', async () => {
    const src = join(dir, 'work')
    await makeFolder(src)
    const first = PutFolderResult.parse(JSON.parse((await cas(['--json', 'put', '-r', src], { env })).text))
    const before = await describeTree(src)
    await writeFile(join(src, 'docs/f6.bin'), randomBytes(5_000))
    await writeFile(join(src, 'new.txt'), 'new')
    const r = await cas(['--json', 'put', '-r', src], { env })
    expect(r.code).toBe(0)
    const second = PutFolderResult.parse(JSON.parse(r.text))
    expect(second).toMatchObject({ root: 'work', files: 14, sent: 2, sentBytes: 5_003, unchanged: 12 })
    const human = await cas(['put', '-r', src], { env })
    expect(human.stderr).toMatch(/: 14 files \(.*\); 0 stored \(0 B\), 14 unchanged/)

    const old = join(dir, 'work-first')
    expect((await cas(['get', '-r', first.id, '-o', old], { env })).code).toBe(0)
    expect(await describeTree(old)).toEqual(before)
    // By path: the names as they are now, with the modes and times of the latest snapshot.
    const now = join(dir, 'work-now')
    expect((await cas(['get', '-r', 'work', '-o', now], { env })).code).toBe(0)
    const expected = await describeTree(src)
    expect(await describeTree(now)).toEqual(expected)
  })

  it('leaves out what it cannot store, says so, and still records the rest', async () => {
    const src = join(dir, 'odd')
    await mkdir(src)
    await writeFile(join(src, 'ok.txt'), 'fine')
    expect(spawnSync('mkfifo', [join(src, 'pipe')]).status).toBe(0)
    const r = await cas(['--json', 'put', '-r', src], { env })
    expect(r.code).toBe(EXIT_FAILURE)
    expect(r.stderr).toContain('pipe is not a file, folder or symlink; left out')
    const snaps = SnapshotListSchema.parse(
      JSON.parse((await cas(['--json', 'snapshots', 'odd'], { env })).text),
    )
    expect(snaps).toMatchObject([{ root: 'odd', files: 1 }])
    const missing = await cas(['get', '-r', 'nothing-here', '-o', join(dir, 'x')], { env })
    expect(missing.code).toBe(3)
    const noOut = await cas(['get', '-r', 'odd'], { env })
    expect(noOut.code).toBe(2)
  })

  it('cas get NAME to a terminal saves under the stored name instead of printing bytes', async () => {
    const src = join(dir, 'tty')
    await mkdir(src)
    await writeFile(join(src, 'report.pdf'), randomBytes(2_000))
    expect((await cas(['put', join(src, 'report.pdf')], { env })).code).toBe(0)
    const cwd = join(dir, 'tty-cwd')
    await mkdir(cwd)
    const line = `${process.execPath} ${CAS_BIN} get report.pdf`
    const shellEnv = { ...process.env, CAS_API: undefined, CAS_TOKEN: undefined, ...env }
    // `script` gives the command a terminal, as a user's shell does.
    const r = await shell(`script -qec '${line}' /dev/null`, cwd, shellEnv)
    expect(r.code).toBe(0)
    expect(await readFile(join(cwd, 'report.pdf'))).toEqual(await readFile(join(src, 'report.pdf')))
    const again = await shell(`script -qec '${line}' /dev/null`, cwd, shellEnv)
    expect(again.code).not.toBe(0)
    expect(again.stdout).toContain('exists already')
  })
})
