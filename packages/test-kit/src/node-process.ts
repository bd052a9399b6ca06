import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, openSync, readFileSync } from 'node:fs'
import { ClientError } from '@cas/api/client'
import { type RuntimeInfo, readRuntimeInfo } from '@cas/api/runtime-info'
import { nodeMainPath } from './app-paths.js'

export const DEFAULT_START_TIMEOUT = 30_000
export const DEFAULT_STOP_TIMEOUT = 15_000

/** The node could not be started, or did not come up in time. */
export class NodeStartError extends ClientError {
  constructor(message: string) {
    super('ERR_NODE_START', message)
  }
}

export interface StartNodeOptions {
  home: string
  args?: string[]
  env?: NodeJS.ProcessEnv
  /** Options for node itself, before the script (e.g. `--cpu-prof`, which NODE_OPTIONS does not allow). */
  nodeArgs?: string[]
  /** stdout and stderr of the node go here (appended). */
  logFile: string
  timeout?: number // default 30 s
}

/** A cas node running as a child process. */
export interface NodeProcess {
  readonly child: ChildProcess
  readonly info: RuntimeInfo
  readonly home: string
  /** SIGTERM, then SIGKILL after `timeout`; resolves with the exit code. */
  stop(timeout?: number): Promise<number | null>
}

/** Spawns the built daemon (`nodeMainPath`) and waits until it has written <home>/node.json. */
export async function startNodeProcess(opts: StartNodeOptions): Promise<NodeProcess> {
  const main = nodeMainPath()
  if (!existsSync(main)) {
    throw new NodeStartError(`the node is not built (${main} is missing); run \`pnpm build\` first`)
  }
  const log = openSync(opts.logFile, 'a')
  const child = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), main, '--home', opts.home, ...(opts.args ?? [])],
    {
      stdio: ['ignore', log, log],
      env: { ...process.env, CAS_LOG_FORMAT: 'json', ...opts.env },
    },
  )
  const exited = once(child, 'exit')
  const deadline = Date.now() + (opts.timeout ?? DEFAULT_START_TIMEOUT)
  let info: RuntimeInfo | undefined
  while (!info) {
    info = await readRuntimeInfo(opts.home)
    if (info?.pid !== child.pid) info = undefined
    if (info) break
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new NodeStartError(
        `the node in ${opts.home} exited (${child.exitCode ?? child.signalCode}): ${tail(opts.logFile)}`,
      )
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new NodeStartError(`the node in ${opts.home} did not start in time: ${tail(opts.logFile)}`)
    }
    // Poll the file the node writes once it listens (no fixed sleep: a short tick, a deadline).
    await new Promise((r) => setTimeout(r, 25))
  }
  const readyInfo = info
  return {
    child,
    info: readyInfo,
    home: opts.home,
    async stop(timeout = DEFAULT_STOP_TIMEOUT) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
      const [code] = (await exited) as [number | null]
      clearTimeout(timer)
      return code
    },
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ')
  } catch {
    return '(no log)'
  }
}
