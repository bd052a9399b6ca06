import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cidOf } from '@cas/crypto'
import type { NodeProcess } from '@cas/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fileNameFor } from '../src/commands/get.js'
import { EXIT_FAILURE, EXIT_NOT_FOUND, GetResultSchema } from '../src/index.js'
import { CAS_BIN, Cluster, cas } from './helpers/cluster.js'

// One node; each test checks that a file problem is named before any transfer and leaves nothing behind.
const cluster = new Cluster()
let node: NodeProcess
let dir: string
const data = randomBytes(300_000)
const cid = cidOf(data)

// Root reads any file, so the unreadable-file case runs the CLI as "nobody" when the tests run as root.
const NOBODY = 65534
const asUser = process.getuid?.() === 0 ? NOBODY : undefined
const canRunAsUser =
  asUser === undefined ||
  spawnSync(process.execPath, [CAS_BIN, '--version'], { uid: asUser, gid: asUser }).status === 0

beforeAll(async () => {
  dir = await cluster.dir()
  node = await cluster.add(['--replication', '1'])
  const file = join(dir, 'report.pdf')
  await writeFile(file, data)
  const put = await cas(['put', file], { env: cluster.envFor(node) })
  expect(put.code).toBe(0)
}, 60_000)
afterAll(() => cluster.stop(), 60_000)

/** Every file under `folder`, hidden ones (a `.partial`) included. */
async function filesIn(folder: string): Promise<string[]> {
  return (await readdir(folder, { recursive: true })).map(String).sort()
}

describe('cas and the files it reads and writes', () => {
  it.skipIf(!canRunAsUser)(
    'put of a file it may not read: one line naming the file and the reason, exit 1, nothing stored',
    async () => {
      const open = await mkdtemp(join(tmpdir(), 'cas-unreadable-'))
      try {
        await chmod(open, 0o755)
        const secret = join(open, 'secret.txt')
        await writeFile(secret, 'not for you')
        await chmod(secret, 0o000)
        const env = { CAS_API: node.info.api, CAS_TOKEN: await cluster.token(node), HOME: open }
        const r = await cas(['put', secret], { env, ...(asUser !== undefined && { uid: asUser }) })
        expect(r.code).toBe(EXIT_FAILURE)
        expect(r.stderr).toBe(`cas: cannot read ${secret}: permission denied\n`)
        expect(r.stdout.length).toBe(0)
        const ls = await cas(['--json', 'ls'], { env: cluster.envFor(node) })
        expect(JSON.parse(ls.text)).toHaveLength(1)
      } finally {
        await rm(open, { recursive: true, force: true })
      }
    },
  )

  it('get -o onto an existing folder saves in it under the stored name', async () => {
    const into = join(dir, 'downloads')
    await mkdir(into)
    const r = await cas(['--json', 'get', cid, '-o', into], { env: cluster.envFor(node) })
    expect(r.code).toBe(0)
    expect(GetResultSchema.parse(JSON.parse(r.text)).path).toBe(join(into, 'report.pdf'))
    expect((await readFile(join(into, 'report.pdf'))).equals(data)).toBe(true)
    expect(await filesIn(into)).toEqual(['report.pdf'])
  })

  it('get -o onto a folder saves an object with no name under its cid', async () => {
    const nameless = randomBytes(5000)
    const put = await cas(['put', '-', '--no-name'], { env: cluster.envFor(node), input: nameless })
    expect(put.code).toBe(0)
    const into = join(dir, 'by-cid')
    await mkdir(into)
    const r = await cas(['get', put.text, '-o', into], { env: cluster.envFor(node) })
    expect(r.code).toBe(0)
    expect(await filesIn(into)).toEqual([put.text])
    expect((await readFile(join(into, put.text))).equals(nameless)).toBe(true)
  })

  it('get -o into a folder that does not exist: the folder is named, exit 1, no file left anywhere', async () => {
    const before = await filesIn(dir)
    const target = join(dir, 'no-such-folder', 'copy.pdf')
    const r = await cas(['get', cid, '-o', target], { env: cluster.envFor(node) })
    expect(r.code).toBe(EXIT_FAILURE)
    expect(r.stderr).toBe(`cas: cannot write ${target}: there is no folder ${join(dir, 'no-such-folder')}\n`)
    expect(await filesIn(dir)).toEqual(before)
  })

  it('rm of a cid nothing knows: not found (exit 3), and nothing is said to be removed', async () => {
    const unknown = cidOf(randomBytes(64))
    for (const args of [
      ['rm', unknown],
      ['rm', '--local', unknown],
    ]) {
      const r = await cas(args, { env: cluster.envFor(node) })
      expect(r.code).toBe(EXIT_NOT_FOUND)
      expect(r.stderr).toContain(unknown)
      expect(r.stderr).not.toContain('removed ')
    }
    // the stored object is untouched
    const ls = await cas(['--json', 'ls'], { env: cluster.envFor(node) })
    expect(ls.text).toContain(cid)
  })
})

describe('fileNameFor', () => {
  it('keeps only the last part of a stored name, and falls back to the cid', () => {
    expect(fileNameFor('photos/2026/beach.jpg', cid)).toBe('beach.jpg')
    expect(fileNameFor('..\\..\\evil.txt', cid)).toBe('evil.txt')
    for (const bad of [undefined, '', 'dir/', '..', 'a/..', '.']) expect(fileNameFor(bad, cid)).toBe(cid)
  })
})
