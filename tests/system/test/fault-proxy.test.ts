import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { type FaultProxy, startFaultProxy } from '../src/fault-proxy.js'

let echo: Server | undefined
let echoed = 0
let proxy: FaultProxy | undefined
const sockets: Socket[] = []

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await proxy?.close()
  await new Promise<void>((resolve) => (echo ? echo.close(() => resolve()) : resolve()))
  echo = undefined
  proxy = undefined
})

async function setUp(): Promise<FaultProxy> {
  echoed = 0
  echo = createServer((s) => {
    s.on('data', (chunk: Buffer) => {
      echoed += chunk.length
    })
    s.pipe(s)
  })
  echo.listen(0, '127.0.0.1')
  await once(echo, 'listening')
  const address = echo.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  proxy = await startFaultProxy(`127.0.0.1:${address.port}`)
  return proxy
}

async function dial(p: FaultProxy): Promise<Socket> {
  const [host, port] = p.address.split(':')
  const socket = connect({ host: host ?? '', port: Number(port) })
  sockets.push(socket)
  await once(socket, 'connect')
  return socket
}

function receive(socket: Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let got = 0
    const onData = (chunk: Buffer) => {
      chunks.push(chunk)
      got += chunk.length
      if (got >= bytes) {
        socket.off('data', onData)
        resolve(Buffer.concat(chunks))
      }
    }
    socket.on('data', onData)
  })
}

describe('fault proxy', () => {
  it('forwards bytes unchanged when no fault is set', async () => {
    const p = await setUp()
    const socket = await dial(p)
    const reply = receive(socket, 5)
    socket.write('hello')
    expect((await reply).toString()).toBe('hello')
  })

  it('holds traffic while cut and delivers it once healed', async () => {
    const p = await setUp()
    const socket = await dial(p)
    p.setFault({ kind: 'cut' })
    let arrived = false
    const reply = receive(socket, 4).then((b) => {
      arrived = true
      return b
    })
    socket.write('ping')
    // Round trips on a direct, healthy path to the same server show it was reachable the whole time.
    const address = echo?.address()
    if (!address || typeof address === 'string') throw new Error('no echo server')
    const direct = connect({ host: '127.0.0.1', port: address.port })
    sockets.push(direct)
    for (let i = 0; i < 20; i++) {
      const back = receive(direct, 1)
      direct.write('x')
      await back
    }
    expect(echoed).toBe(20)
    expect(arrived).toBe(false)
    p.setFault({ kind: 'none' })
    expect((await reply).toString()).toBe('ping')
  })

  it('resets open connections on command', async () => {
    const p = await setUp()
    const socket = await dial(p)
    const failed = new Promise<NodeJS.ErrnoException>((resolve) => socket.once('error', resolve))
    p.setFault({ kind: 'reset' })
    expect((await failed).code).toBe('ECONNRESET')
  })

  it('slows a transfer down to the configured rate', async () => {
    const p = await setUp()
    const socket = await dial(p)
    p.setFault({ kind: 'slow', bytesPerSecond: 200_000 })
    const started = Date.now()
    const reply = receive(socket, 100_000)
    socket.write(Buffer.alloc(100_000, 7))
    expect((await reply).length).toBe(100_000)
    // Two hops of 100 kB each at 200 kB/s: at least about half a second in all.
    expect(Date.now() - started).toBeGreaterThanOrEqual(450)
  })
})
