import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { ApiClient } from '@cas/api/client'

/** A running floor node (`floor-node.ts`): the bench's client reaches it as it reaches a node. */
export interface FloorNode {
  client: ApiClient
  pid: number
  stop(): Promise<void>
}

const SCRIPT = fileURLToPath(new URL('./floor-node.ts', import.meta.url))

/** Starts a floor node in its own process (as a node runs in its own), on a free loopback port. */
export async function startFloor(): Promise<FloorNode> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = once(child, 'exit')
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (data: Buffer) => {
      out += data.toString()
      const line = out.split('\n')
      if (line.length > 1) resolve(Number(line[0]))
    })
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`the floor node exited (${code}) before it listened`)))
  })
  const pid = child.pid
  if (pid === undefined || !(port > 0)) throw new Error('the floor node did not start')
  return {
    client: new ApiClient({ url: `http://127.0.0.1:${port}` }),
    pid,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}
