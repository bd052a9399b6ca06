import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type RuntimeInfo, readRuntimeInfo } from '@cas/api/runtime-info'

/** The built daemon: the tests run what a user runs (vitest.build-first.ts at the root builds it). */
export const NODE_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url))

/** Arguments that keep a test node on loopback, on free ports, with JSON logs. */
export const TEST_ARGS = ['--listen', '127.0.0.1:0', '--api-listen', '127.0.0.1:0', '--log-format', 'json']

export interface Spawned {
  child: ChildProcess
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** stdout and stderr together, in arrival order. */
  output(): string
  stderr(): string
}

export interface Running extends Spawned {
  home: string
  info: RuntimeInfo
  token: string
}

/** Spawns node processes and temp folders for one test, and removes them all in cleanup(). */
export class Harness {
  readonly #children: ChildProcess[] = []
  readonly #dirs: string[] = []

  async tempDir(prefix = 'cas-node-test-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix))
    this.#dirs.push(dir)
    return dir
  }

  spawn(home: string, args: string[] = TEST_ARGS, env: NodeJS.ProcessEnv = {}): Spawned {
    const child = spawn(process.execPath, [NODE_MAIN, '--home', home, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CAS_HOME: undefined, CAS_LOG_LEVEL: 'info', ...env },
    })
    this.#children.push(child)
    let output = ''
    let stderr = ''
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString()
    })
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString()
      stderr += d.toString()
    })
    const exit = once(child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }))
    return { child, exit, output: () => output, stderr: () => stderr }
  }

  /** Spawns a node and waits (polling, with a deadline) for the node.json it writes once ready. */
  async start(home: string, args: string[] = TEST_ARGS, env: NodeJS.ProcessEnv = {}): Promise<Running> {
    const spawned = this.spawn(home, args, env)
    const info = await waitFor(async () => {
      if (spawned.child.exitCode !== null) throw new Error(`node exited early: ${spawned.output()}`)
      const i = await readRuntimeInfo(home)
      return i?.pid === spawned.child.pid ? i : undefined
    }, 30_000)
    const token = (await readFile(join(home, 'api-token'), 'utf8')).trim()
    return { ...spawned, home, info, token }
  }

  async cleanup(): Promise<void> {
    for (const child of this.#children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await once(child, 'exit')
      }
    }
    this.#children.length = 0
    await Promise.all(this.#dirs.map((d) => rm(d, { recursive: true, force: true })))
    this.#dirs.length = 0
  }
}

/** Polls `check` until it returns a value, failing after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export interface HttpResult {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  json<T = unknown>(): T
}

/** A raw HTTP request (node:http lets a test set any Host header, unlike fetch). */
export function http(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, agent: false },
      (res) => {
        const parts: Buffer[] = []
        res.on('data', (d: Buffer) => parts.push(d))
        res.on('end', () => {
          const body = Buffer.concat(parts)
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
          })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(opts.body)
  })
}

export function auth(node: Running): Record<string, string> {
  return { authorization: `Bearer ${node.token}` }
}
