import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { MemoryNetwork, MemoryTransport, type MemoryTransportOptions } from '../src/index.js'
import { MemoryDuplex } from '../src/memory-duplex.js'
import { captureLogger, identity } from './helpers.js'

// What the compliance suite cannot say: the pipe under MemoryTransport, and its addresses.

const made: MemoryTransport[] = []
afterEach(async () => {
  await Promise.all(made.splice(0).map((t) => t.close()))
})

async function transport(
  i: number,
  opts: Partial<MemoryTransportOptions> & { network: MemoryNetwork },
): Promise<MemoryTransport> {
  const t = new MemoryTransport({ identity: await identity(i), ...opts })
  made.push(t)
  return t
}

describe('MemoryDuplex', () => {
  it('holds a writer whose reader does not read, and lets it go on once it does', async () => {
    const [a, b] = MemoryDuplex.pair('memory:2', 'memory:1')
    b.pause()
    let writes = 0
    while (a.write(Buffer.alloc(64 * 1024))) writes++
    expect(writes).toBeLessThan(4)
    const drained = once(a, 'drain')
    let read = 0
    b.on('data', (chunk: Buffer) => {
      read += chunk.length
    })
    b.resume()
    await drained
    expect(read).toBeGreaterThan(0)
    a.destroy()
    await once(b, 'close')
  })

  it('ends the other end after the bytes written before end(), and both close', async () => {
    const [a, b] = MemoryDuplex.pair('memory:2', 'memory:1')
    const closed = Promise.all([once(a, 'close'), once(b, 'close')])
    const parts: Buffer[] = []
    b.on('data', (chunk: Buffer) => parts.push(chunk))
    const ended = once(b, 'end')
    a.resume()
    a.end(Buffer.from('last words'))
    await ended
    expect(Buffer.concat(parts).toString()).toBe('last words')
    await closed
  })

  it('ends the other end when one is destroyed, and drops what is written to the gone end', async () => {
    const [a, b] = MemoryDuplex.pair('memory:2', 'memory:1')
    const ended = once(b, 'end')
    const closed = once(b, 'close')
    const errors: Error[] = []
    b.on('error', (err) => errors.push(err))
    b.resume()
    a.destroy()
    b.write(Buffer.from('into the void'))
    await ended
    await closed
    expect(errors).toEqual([])
    expect(b.remoteAddress).toBe('memory:1')
  })
})

describe('MemoryTransport addresses', () => {
  it('listens on memory:<n>, on the number asked for when it is free', async () => {
    const network = new MemoryNetwork()
    const a = await transport(0, { network, port: 4001 })
    expect(await a.listen()).toBe('memory:4001')
    const b = await transport(1, { network, port: 4001 })
    await expect(b.listen()).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    const c = await transport(2, { network })
    expect(await c.listen()).toMatch(/^memory:\d+$/)
  })

  it('does not reach a transport on another network', async () => {
    const a = await transport(0, { network: new MemoryNetwork() })
    const b = await transport(1, { network: new MemoryNetwork() })
    await b.listen()
    await expect(a.dial(b.listenAddr, { retries: 0 })).rejects.toMatchObject({
      code: 'ERR_CONNECTION_CLOSED',
    })
  })

  it('retries a dial with backoff until the listener appears', async () => {
    const network = new MemoryNetwork()
    const b = await transport(1, { network, port: 4002 })
    const log = captureLogger()
    let started: Promise<string> | undefined
    log.debug = (_obj, msg) => {
      if (msg === 'dial failed; retrying') started ??= b.listen()
    }
    const a = await transport(0, { network, dialRetries: 5, dialBackoff: 10, logger: log })
    const peer = await a.dial('memory:4002')
    expect(started).toBeDefined()
    expect(peer.nodeId).toBe(b.nodeId)
  })

  it('shows a listening dialler by its address, on the listener side', async () => {
    const network = new MemoryNetwork()
    const a = await transport(0, { network })
    const b = await transport(1, { network })
    await a.listen()
    await b.listen()
    const seen = new Promise<string>((resolve) => b.once('peer', (p) => resolve(p.remoteAddress)))
    await a.dial(b.listenAddr)
    expect(await seen).toBe(a.listenAddr)
  })
})
