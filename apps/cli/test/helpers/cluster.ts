import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type NodeProcess, startNodeProcess } from '../../src/demo/node-process.js'

/** The built `cas` launcher, as a user runs it. */
export const CAS_BIN = fileURLToPath(new URL('../../bin/cas.js', import.meta.url))

export interface CasResult {
  code: number | null
  stdout: Buffer
  stderr: string
  text: string
}

/** Runs `cas <args>` as a child process and collects its output. */
export function cas(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: Buffer } = {},
): Promise<CasResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CAS_BIN, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, CAS_HOME: undefined, CAS_API: undefined, CAS_TOKEN: undefined, ...opts.env },
    })
    const out: Buffer[] = []
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const stdout = Buffer.concat(out)
      resolve({ code, stdout, stderr, text: stdout.toString('utf8').trim() })
    })
    child.stdin.end(opts.input)
  })
}

/** Nodes as real processes in one temp folder; stop() ends them all and removes the folder. */
export class Cluster {
  readonly nodes: NodeProcess[] = []
  #dir: string | undefined

  async dir(): Promise<string> {
    this.#dir ??= await mkdtemp(join(tmpdir(), 'cas-cli-test-'))
    return this.#dir
  }

  async add(args: string[] = [], bootstrap: NodeProcess[] = this.nodes): Promise<NodeProcess> {
    const dir = await this.dir()
    const i = this.nodes.length + 1
    const node = await startNodeProcess({
      home: join(dir, `node${i}`),
      logFile: join(dir, `node${i}.log`),
      args: ['--listen', '127.0.0.1:0', '--api-listen', '127.0.0.1:0', ...args],
      env: { CAS_BOOTSTRAP: bootstrap.map((n) => n.info.p2p).join(',') },
    })
    this.nodes.push(node)
    return node
  }

  /** Environment that points `cas` at one node through its data directory. */
  envFor(node: NodeProcess): NodeJS.ProcessEnv {
    return { CAS_HOME: node.home }
  }

  async token(node: NodeProcess): Promise<string> {
    return (await readFile(join(node.home, 'api-token'), 'utf8')).trim()
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop(5_000)))
    this.nodes.length = 0
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true })
    this.#dir = undefined
  }
}

export { waitFor } from '../../src/demo/wait-for.js'
