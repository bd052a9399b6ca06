import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

const FIXTURE = fileURLToPath(new URL('../fixtures/node-process.ts', import.meta.url))

type Answer = { id: number; ok: boolean; result?: unknown; error?: { code?: string; message: string } }

/** A FileServer running in a child process (tsx against sources), driven by IPC commands. */
export class NodeProcess {
  readonly #child: ChildProcess
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  readonly #ready: Promise<void>
  #next = 1

  constructor() {
    this.#child = fork(FIXTURE, [], {
      execArgv: [
        '--conditions=@cas/source',
        '--import',
        'tsx',
        ...(process.env.CAS_NODE_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/cas-server-prof'] : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.#ready = new Promise((resolve, reject) => {
      this.#child.once('error', reject)
      this.#child.once('exit', (code) => reject(new Error(`node process exited early with ${code}`)))
      this.#child.on('message', (msg: Answer) => {
        if (msg.id === 0) return resolve()
        const p = this.#pending.get(msg.id)
        this.#pending.delete(msg.id)
        if (msg.ok) p?.resolve(msg.result)
        else p?.reject(Object.assign(new Error(msg.error?.message), { code: msg.error?.code }))
      })
    })
    this.#child.on('exit', () => {
      for (const p of this.#pending.values()) p.reject(new Error('node process exited'))
      this.#pending.clear()
    })
  }

  async call<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    await this.#ready
    const id = this.#next++
    const answer = new Promise<unknown>((resolve, reject) => this.#pending.set(id, { resolve, reject }))
    this.#child.send({ id, cmd, ...args })
    return answer as Promise<T>
  }

  /** Stops the server and waits for the process to exit; kills it if it does not. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    const exited = once(this.#child, 'exit')
    try {
      await Promise.race([this.call('stop'), exited])
    } catch {
      this.#child.kill('SIGKILL')
    }
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
}
