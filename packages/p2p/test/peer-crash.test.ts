import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { casHandshake } from '../src/index.js'
import { Transports } from './helpers.js'

const fixture = fileURLToPath(new URL('./fixtures/streaming-node.ts', import.meta.url))
const transports = new Transports()
const children: ChildProcess[] = []
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  await transports.closeAll()
})

/** Starts the streaming node in a child process; resolves with its address. */
async function startChild(tls: boolean): Promise<{ child: ChildProcess; addr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, tls ? 'tls' : 'plain'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  let out = ''
  child.stdout!.setEncoding('utf8')
  while (!out.includes('\n')) {
    const [chunk] = (await once(child.stdout!, 'data')) as [string]
    out += chunk
  }
  return { child, addr: out.trim() }
}

describe.each([
  ['plain TCP', false],
  ['TLS', true],
])('a peer process killed mid-stream over %s', (_name, tls) => {
  it('fails the waiting reader with ERR_CONNECTION_CLOSED, well within the request timeout', async () => {
    const { child, addr } = await startChild(tls)
    const a = await transports.listening(0, { tls, handshake: casHandshake })
    const peer = await a.dial(addr)
    const res = await peer.request('go', { timeout: 20_000 })
    expect(res.body).toBe('streaming')
    let received = 0
    const started = Date.now()
    const reading = (async () => {
      for await (const chunk of res.data!) {
        received += chunk.length
        if (received >= 8 * 1024 * 1024 && child.signalCode === null) child.kill('SIGKILL')
      }
    })()
    await expect(reading).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
    expect(received).toBeGreaterThanOrEqual(8 * 1024 * 1024)
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(a.peers()).toHaveLength(0)
  })
})
