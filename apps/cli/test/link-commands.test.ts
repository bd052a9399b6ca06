import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cidOf } from '@cas/crypto'
import type { NodeProcess } from '@cas/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXIT_NOT_FOUND, EXIT_USAGE } from '../src/index.js'
import { MAN_PAGE_MARK } from '../src/man-page.js'
import { Cluster, type ShellResult, shell } from './helpers/cluster.js'

const LINK = fileURLToPath(new URL('../bin/link-commands.js', import.meta.url))
const cluster = new Cluster()
let node: NodeProcess
let prefix: string
let binDir: string
let userDir: string

/** Runs a command line in `cwd` through a shell, as a user types it, with the linked commands on PATH. */
function sh(line: string, cwd: string): Promise<ShellResult> {
  return shell(line, cwd, {
    ...process.env,
    PATH: `${binDir}${delimiter}${process.env.PATH}`,
    CAS_HOME: node.home,
    CAS_BIN_DIR: binDir,
  })
}

beforeAll(async () => {
  node = await cluster.add(['--replication', '1'])
  // A private npm-style prefix: <prefix>/bin for the links, <prefix>/share/man for the manual page.
  prefix = await mkdtemp(join(tmpdir(), 'cas-prefix-'))
  binDir = join(prefix, 'bin')
  await mkdir(binDir)
  userDir = await mkdtemp(join(tmpdir(), 'cas-user-'))
}, 60_000)
afterAll(async () => {
  await cluster.stop()
  await rm(prefix, { recursive: true, force: true })
  await rm(userDir, { recursive: true, force: true })
}, 60_000)

describe('link-commands: cas and cas-node on PATH', () => {
  it('links both commands, and again is a no-op', async () => {
    const first = await sh(`node ${LINK}`, userDir)
    expect(first.code).toBe(0)
    expect(first.stderr).toMatch(
      /^linked cas → .*apps\/cli\/bin\/cas\.js\nlinked cas-node → .*apps\/node\/bin\/cas-node\.js\nmanual page .*\/share\/man\/man1\/cas\.1 \(man cas\)\n$/,
    )
    expect(await readlink(join(binDir, 'cas'))).toMatch(/apps\/cli\/bin\/cas\.js$/)
    const again = await sh(`node ${LINK}`, userDir)
    expect(again.code).toBe(0)
    expect(again.stderr).toContain('cas already links to')
    // npm's layout: <prefix>/bin beside <prefix>/share/man, where `man cas` finds the page.
    const page = await readFile(join(binDir, '..', 'share', 'man', 'man1', 'cas.1'), 'utf8')
    expect(page.startsWith(MAN_PAGE_MARK)).toBe(true)
    expect(first.stderr).toContain('manual page ')
  })

  it('runs `cas` from any folder: paths are that folder’s, stdout is only the result, exit codes are cas’s', async () => {
    const data = randomBytes(70_000)
    await writeFile(join(userDir, 'photo.jpg'), data)
    const put = await sh('cas put ./photo.jpg', userDir)
    expect(put.code).toBe(0)
    expect(put.stdout).toBe(`${cidOf(data)}\n`)
    const get = await sh(`cas get ${cidOf(data)} -o copy.jpg`, userDir)
    expect(get.code).toBe(0)
    expect((await readFile(join(userDir, 'copy.jpg'))).equals(data)).toBe(true)
    const usage = await sh('cas put ./photo.jpg --replication 0', userDir)
    expect(usage).toMatchObject({ code: EXIT_USAGE, stdout: '' })
    const missing = await sh(`cas get ${'0'.repeat(64)} -o lost.jpg`, userDir)
    expect(missing).toMatchObject({ code: EXIT_NOT_FOUND, stdout: '' })
    const version = await sh('cas-node --version', userDir)
    expect(version).toMatchObject({ code: 0, stdout: '0.1.0\n' })
  })

  it('leaves a file of the same name that is not a cas link alone, and says so', async () => {
    const other = await mkdtemp(join(tmpdir(), 'cas-bin-other-'))
    try {
      await writeFile(join(other, 'cas'), '#!/bin/sh\necho mine\n')
      const r = await sh(`CAS_BIN_DIR=${other} node ${LINK}`, userDir)
      expect(r.code).toBe(1)
      expect(r.stderr).toBe(
        `cas: ${join(other, 'cas')} exists and is not a link to a cas checkout; remove it, or choose another folder with CAS_BIN_DIR\n`,
      )
      expect(await readFile(join(other, 'cas'), 'utf8')).toBe('#!/bin/sh\necho mine\n')
    } finally {
      await rm(other, { recursive: true, force: true })
    }
  })
})
