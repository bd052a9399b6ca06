import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { ApiClient } from '@cas/api/client'

/**
 * A floor owner and its holders (`floor-node.ts`), each in its own process as nodes are: the bench's
 * client reaches the owner as it reaches a node.
 */
export interface Floor {
  client: ApiClient
  /** The owner's process first, then each holder's. */
  pids: number[]
  stop(): Promise<void>
}

const SCRIPT = fileURLToPath(new URL('./floor-node.ts', import.meta.url))

/** Starts a floor owner with `holders` holders (0: a lone one) on free loopback ports. */
export async function startFloor(holders: number): Promise<Floor> {
  const started: { child: ChildProcess; exited: Promise<unknown> }[] = []
  const stop = async (): Promise<void> => {
    for (const { child } of started) if (child.exitCode === null) child.kill('SIGTERM')
    await Promise.all(started.map((s) => s.exited))
  }
  const start = async (args: string[]): Promise<{ port: number; pid: number }> => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    started.push({ child, exited: once(child, 'exit') })
    const port = await new Promise<number>((resolve, reject) => {
      let out = ''
      child.stdout?.on('data', (data: Buffer) => {
        out += data.toString()
        const [line, rest] = out.split('\n')
        if (rest !== undefined) resolve(Number(line))
      })
      child.once('error', reject)
      child.once('exit', (code) => reject(new Error(`a floor process exited (${code}) before it listened`)))
    })
    if (child.pid === undefined) throw new Error('a floor process has no pid')
    return { port, pid: child.pid }
  }
  try {
    const held = await Promise.all(Array.from({ length: holders }, () => start(['holder'])))
    const owner = await start(['owner', ...held.map((h) => String(h.port))])
    return {
      client: new ApiClient({ url: `http://127.0.0.1:${owner.port}` }),
      pids: [owner.pid, ...held.map((h) => h.pid)],
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}
