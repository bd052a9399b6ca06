import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { NodeProcess } from '@cas/test-kit'
import { LocalCluster } from '@cas/test-kit'

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
  opts: { env?: NodeJS.ProcessEnv; input?: Buffer; uid?: number } = {},
): Promise<CasResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CAS_BIN, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.uid !== undefined && { uid: opts.uid, gid: opts.uid }),
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

export interface ShellResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a command line through `sh` in `cwd`, as a user types it, and collects its output. */
export function shell(
  line: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', line], { cwd, env })
    child.stdin.end(input)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Nodes as real processes in one temp folder (a LocalCluster); stop() ends them all and removes the folder. */
export class Cluster {
  readonly nodes: NodeProcess[] = []
  readonly #local = new LocalCluster()

  dir(): Promise<string> {
    return this.#local.dir()
  }

  async add(args: string[] = [], bootstrap: NodeProcess[] = this.nodes): Promise<NodeProcess> {
    const node = await this.#local.add({ args, bootstrap: bootstrap.map((n) => n.info.p2p) })
    this.nodes.push(node.process)
    return node.process
  }

  /** Environment that points `cas` at one node through its data directory. */
  envFor(node: NodeProcess): NodeJS.ProcessEnv {
    return { CAS_HOME: node.home }
  }

  async token(node: NodeProcess): Promise<string> {
    return (await readFile(join(node.home, 'api-token'), 'utf8')).trim()
  }

  async stop(): Promise<void> {
    await this.#local.stop()
    this.nodes.length = 0
  }
}

export { waitFor } from '@cas/test-kit'
