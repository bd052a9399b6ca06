import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cidOf } from '@cas/crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { type ShellResult, shell, waitFor } from './helpers/cluster.js'

// Runs every ```sh block of README.md and apps/cli/README.md line by line, exactly
// as written, through `sh`, in a private HOME (so `~/.cas` is a temporary folder)
// with the linked commands on PATH. Lines that start `cas-node` are what the
// README runs "in its own terminal": they are started in the background and
// awaited until their node answers. Every line must have a check below, so a
// new README line fails here until it is covered.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const README_PORTS = [3000, 3001, 4000, 4001, 5000, 5001]

type ShResult = ShellResult

interface Run {
  home: string
  userDir: string
  binDir: string
  photo: Buffer
  cid?: string
  /** What `cas init` showed, for `cas init --recover`. */
  phrase?: string
  ownerId?: string | undefined
  daemons: Map<string, Daemon>
}

interface Daemon {
  line: string
  child: ChildProcess
  exited: Promise<number | null>
  log: () => string
}

/** The lines of every ```sh block, comments removed, in order. */
function shBlocks(markdown: string): string[][] {
  const blocks: string[][] = []
  for (const m of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    const lines = (m[1] ?? '')
      .split('\n')
      .map((l) => l.replace(/(^|\s+)#\s.*$/, '').trim())
      .filter((l) => l !== '')
    blocks.push(lines)
  }
  return blocks
}

function envOf(run: Run): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOME: run.home,
    PATH: `${run.binDir}${delimiter}${process.env.PATH}`,
    // The README's documented way to link somewhere other than npm's global bin folder.
    CAS_BIN_DIR: run.binDir,
    CAS_HOME: undefined,
    CAS_API: undefined,
    CAS_TOKEN: undefined,
    NO_COLOR: '1',
  }
}

/** `pnpm` lines run at the repository root (the README's set-up is there); `cas` lines in the user's own folder. */
function cwdOf(line: string, run: Run): string {
  return line.startsWith('pnpm ') ? ROOT : run.userDir
}

function sh(line: string, run: Run): Promise<ShResult> {
  return shell(line, cwdOf(line, run), envOf(run), INPUTS[line]?.(run))
}

/** What a line gets on stdin (what the README tells the user to type). */
const INPUTS: Record<string, (run: Run) => string> = {
  'cas init --recover': (run) => `${run.phrase ?? ''}\n`,
}

/** The README's `<cid>` placeholder is the cid the put before it printed. */
function substitute(line: string, run: Run): string {
  if (!line.includes('<cid>')) return line
  if (run.cid === undefined) throw new Error(`${line}: no put printed a cid before it`)
  return line.replaceAll('<cid>', run.cid)
}

/** Starts a `cas-node` line as its own process group and waits until `cas status` with the same prefix answers. */
async function startDaemon(line: string, run: Run): Promise<void> {
  const command = line.replace(/\s*&$/, '')
  const child = spawn('sh', ['-c', command], {
    cwd: run.userDir,
    env: envOf(run),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  child.stdout?.on('data', (d: Buffer) => {
    log += d
  })
  child.stderr?.on('data', (d: Buffer) => {
    log += d
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  run.daemons.set(line, { line, child, exited, log: () => log })
  let gone = false
  void exited.then(() => {
    gone = true
  })
  const status = command.replace(/cas-node.*$/, 'cas status')
  await waitFor(
    async () => {
      if (gone) throw new Error(`\`${line}\` exited before its node answered:\n${log}`)
      return (await sh(status, run)).code === 0 ? true : undefined
    },
    30_000,
    `the node of \`${line}\` to answer \`${status}\``,
  )
}

async function expectFile(run: Run, name: string): Promise<void> {
  expect((await readFile(join(run.userDir, name))).equals(run.photo)).toBe(true)
}

async function expectAllStopped(run: Run): Promise<void> {
  for (const d of run.daemons.values()) {
    const code = await Promise.race([
      d.exited,
      new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 15_000).unref()),
    ])
    expect(code, `${d.line} after cas stop`).toBe(0)
  }
}

/** The folder `cas put -r ./album` stores. */
const ALBUM = new Map([
  ['cover.jpg', randomBytes(40_000)],
  ['2026/beach.jpg', randomBytes(120_000)],
  ['2026/notes.txt', Buffer.from('a day at the beach\n')],
])

/** What each README line must do beyond exiting 0. */
const CHECKS: Record<string, (r: ShResult, run: Run) => Promise<void>> = {
  'pnpm link-commands': async (_r, run) => {
    expect(await readlink(join(run.binDir, 'cas'))).toMatch(/apps\/cli\/bin\/cas\.js$/)
    expect(await readlink(join(run.binDir, 'cas-node'))).toMatch(/apps\/node\/bin\/cas-node\.js$/)
  },
  'cas init': async (r, run) => {
    expect(r.stdout).toContain('recovery phrase (shown this once):')
    const words = [...r.stdout.matchAll(/\b\d+\. ([a-z]+)/g)].map((m) => m[1])
    expect(words).toHaveLength(24)
    run.phrase = words.join(' ')
    run.ownerId = /^owner\s+([0-9a-f]{64})$/m.exec(r.stdout)?.[1]
    expect(run.ownerId).toBeDefined()
  },
  'cas stop && rm -rf ~/.cas': async (_r, run) => {
    expect(await run.daemons.get('cas-node')?.exited).toBe(0)
    await expect(readFile(join(run.home, '.cas', 'owner.key'))).rejects.toMatchObject({ code: 'ENOENT' })
  },
  'cas init --recover': async (r, run) => {
    expect(r.stdout).toMatch(new RegExp(`^owner\\s+${run.ownerId}$`, 'm'))
    expect(r.stdout).not.toContain('recovery phrase')
  },
  'cas restore -o ~/restored': async (r, run) => {
    // photo.jpg and the three files of album/
    expect(r.stdout).toMatch(/^4 file\(s\) \(.+\) written to /)
    expect((await readFile(join(run.home, 'restored', 'photo.jpg'))).equals(run.photo)).toBe(true)
    for (const [path, bytes] of ALBUM) {
      expect((await readFile(join(run.home, 'restored', 'album', path))).equals(bytes)).toBe(true)
    }
  },
  'cas put -r ./album': async (r) => {
    expect(r.stdout).toMatch(/^[0-9a-f]{16}:\d+\n$/)
    expect(r.stderr).toMatch(/snapshot .* of album: 3 files .*; 3 stored/)
  },
  'cas put ./photo.jpg': async (r, run) => {
    run.cid = cidOf(run.photo)
    expect(r.stdout).toBe(`${run.cid}\n`)
  },
  'cas get <cid> -o photo-copy.jpg': (r, run) => {
    expect(r.stdout).toBe('')
    return expectFile(run, 'photo-copy.jpg')
  },
  'cas get photo.jpg -o copy.jpg': (r, run) => {
    expect(r.stdout).toBe('')
    return expectFile(run, 'copy.jpg')
  },
  'cas ls': async (r) => {
    expect(r.stdout).toMatch(/^CID\b.*\bNAMES?\b/)
    expect(r.stdout).toContain('photo.jpg')
  },
  'CAS_HOME=~/.cas-b cas status': async (r) => {
    expect(r.stdout).toMatch(/^peers\s+2 connected/m)
  },
  'cas ui --no-open': async (r) => {
    const url = /^(http:\/\/127\.0\.0\.1:3001)\/#code=[\w-]{32}\n$/.exec(r.stdout)
    expect(url, r.stdout).not.toBeNull()
    // The link's page: the dashboard, served by the node itself.
    const page = await fetch(`${url?.[1]}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(await page.text()).toContain('<title>')
  },
  'cas repair': async (r) => {
    expect(r.stderr).toMatch(/repair: 4 healthy, 0 under-replicated/)
  },
  'cas stop && CAS_HOME=~/.cas-b cas stop && CAS_HOME=~/.cas-c cas stop': (_r, run) => expectAllStopped(run),
  'cas stop': (_r, run) => expectAllStopped(run),
  'cas demo': async (r) => {
    expect(r.stdout).toMatch(/^FILE\s+SIZE\s+CID\s+REPLICAS/)
    expect(r.stdout).toMatch(/20 files, .*get back from the network/)
  },
}

/** Lines whose result settles a moment after the line before (gossip): run again until the check holds. */
const SETTLING = new Set(['CAS_HOME=~/.cas-b cas status', 'cas restore -o ~/restored'])

async function runBlocks(blocks: string[][], run: Run): Promise<string[]> {
  const ran: string[] = []
  for (const block of blocks) {
    for (const written of block) {
      if (/^(\S+=\S+\s+)*cas-node\b/.test(written)) {
        await startDaemon(written, run)
        ran.push(written)
        continue
      }
      const check = CHECKS[written]
      if (check === undefined) throw new Error(`README line without a check in this test: ${written}`)
      const line = substitute(written, run)
      const attempt = async (): Promise<void> => {
        const r = await sh(line, run)
        expect(r.code, `\`${line}\`\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0)
        await check(r, run)
      }
      if (SETTLING.has(written)) {
        let last: unknown
        await waitFor(
          async () => {
            try {
              await attempt()
              return true
            } catch (err) {
              last = err
              return undefined
            }
          },
          20_000,
          `\`${line}\` to pass its check`,
        ).catch((err: unknown) => {
          throw last ?? err
        })
      } else {
        await attempt()
      }
      ran.push(written)
    }
  }
  return ran
}

async function busyPorts(ports: number[]): Promise<number[]> {
  const busy: number[] = []
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
    })
    if (!free) busy.push(port)
  }
  return busy
}

const busy = await busyPorts(README_PORTS)
if (busy.length > 0) {
  console.warn(`readme-commands: SKIPPED, the README's ports ${busy.join(', ')} are in use on 127.0.0.1`)
}

describe.skipIf(busy.length > 0)('every command block of the READMEs, as written', () => {
  const runs: Run[] = []

  async function newRun(): Promise<Run> {
    const home = await mkdtemp(join(tmpdir(), 'cas-readme-home-'))
    const userDir = join(home, 'pictures')
    const binDir = join(home, 'bin')
    await mkdir(userDir)
    await mkdir(binDir)
    const photo = randomBytes(300_000)
    await writeFile(join(userDir, 'photo.jpg'), photo)
    for (const [path, bytes] of ALBUM) {
      await mkdir(join(userDir, 'album', path, '..'), { recursive: true })
      await writeFile(join(userDir, 'album', path), bytes)
    }
    const run: Run = { home, userDir, binDir, photo, daemons: new Map() }
    runs.push(run)
    return run
  }

  async function cleanUp(run: Run): Promise<void> {
    for (const d of run.daemons.values()) {
      if (d.child.exitCode === null && d.child.pid !== undefined) {
        try {
          process.kill(-d.child.pid, 'SIGTERM')
        } catch {}
        await d.exited
      }
    }
    await rm(run.home, { recursive: true, force: true })
  }

  afterAll(async () => {
    for (const run of runs) await cleanUp(run)
  }, 60_000)

  it('README.md: the set-up line and the test command are what .ci/run runs', async () => {
    const [setUp] = shBlocks(await readFile(join(ROOT, 'README.md'), 'utf8'))
    expect(setUp).toEqual(['npm install -g pnpm@10 && pnpm install && pnpm demo', 'pnpm test'])
    // The set-up changes the machine (a global pnpm) and `pnpm test` is what runs this file:
    // CI runs both verbatim from .ci/run on a clean clone, which is checked here.
    const ci = await readFile(join(ROOT, '.ci/run'), 'utf8')
    expect(ci).toContain(`  ${setUp?.[0]}\n`)
    expect(ci.trimEnd().split('\n').at(-1)).toBe(setUp?.[1])
  })

  it('README.md: init, one node, put, get, ls; two more nodes join; repair; lose the first, recover, restore; stop', async () => {
    const run = await newRun()
    const blocks = shBlocks(await readFile(join(ROOT, 'README.md'), 'utf8')).slice(1)
    const ran = await runBlocks(blocks, run)
    expect(ran).toContain('cas put ./photo.jpg')
    expect(ran).toContain('cas restore -o ~/restored')
    expect(run.daemons.size).toBe(4)
  }, 240_000)

  it('apps/cli/README.md: link, a node in the background, put, ls, get by name, stop, demo', async () => {
    const run = await newRun()
    const blocks = shBlocks(await readFile(join(ROOT, 'apps/cli/README.md'), 'utf8'))
    const ran = await runBlocks(blocks, run)
    expect(ran).toContain('cas demo')
    expect(run.daemons.size).toBe(1)
  }, 240_000)
})
