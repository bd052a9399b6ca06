import { once } from 'node:events'
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  backoffDelay,
  encodeFrame,
  msgpackCodec,
  type Peer,
  PROTOCOL,
  STREAM_WINDOW,
  type TcpTransport,
} from '../src/index.js'
import { captureLogger, nextPeerClose, RawPeer, Transports, until } from './helpers.js'

const transports = new Transports()
const raws: RawPeer[] = []
afterEach(async () => {
  for (const r of raws.splice(0)) r.socket.destroy()
  await transports.closeAll()
})

async function raw(addr: string, handshaken = true): Promise<RawPeer> {
  const r = handshaken ? await RawPeer.handshaken(addr) : await RawPeer.connect(addr)
  raws.push(r)
  return r
}

async function freePort(): Promise<number> {
  const s = createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address() as { port: number }
  s.close()
  await once(s, 'close')
  return port
}

describe('connection limits', () => {
  it('beyond maxPendingHandshakes closes the oldest handshake to make room for the newcomer', async () => {
    const log = captureLogger()
    const a = await transports.listening(0, { maxPendingHandshakes: 2, logger: log })
    const first = await raw(a.listenAddr, false)
    const second = await raw(a.listenAddr, false)
    const third = await raw(a.listenAddr, false)
    await first.closed
    expect(second.isClosed || third.isClosed).toBe(false)
    expect(log.entries.some((e) => e.obj.limit === 'maxPendingHandshakes')).toBe(true)
    await until(() => a.inboundStats.connections === 2)
    expect(a.inboundStats).toEqual({ connections: 2, pendingHandshakes: 2, refused: 1 })
  })

  it('lets an honest peer in while idle sockets hold every handshake slot', async () => {
    const a = await transports.listening(0, { maxPendingHandshakes: 4 })
    const idle = await Promise.all(Array.from({ length: 4 }, () => raw(a.listenAddr, false)))
    const honest = await transports.listening(1)
    const peer = await honest.dial(a.listenAddr, { retries: 0 })
    expect(peer.nodeId).toBe(a.nodeId)
    expect(idle.filter((r) => r.isClosed).length).toBeLessThanOrEqual(1)
  })

  it('logs a flood of refused connections as a few lines with a count, not one line each', async () => {
    const log = captureLogger()
    const a = await transports.listening(0, { maxPendingHandshakes: 1, logger: log })
    const first = await raw(a.listenAddr, false)
    const flood = await Promise.all(Array.from({ length: 50 }, () => raw(a.listenAddr, false)))
    // Each newcomer displaced the one before it: all but the last are closed.
    await Promise.all([first, ...flood.slice(0, -1)].map((r) => r.closed))
    expect(a.inboundStats.refused).toBe(50)
    expect(a.inboundStats.pendingHandshakes).toBe(1)
    // Every refusal is counted in some line, the last ones at the end of their interval at the latest.
    const counted = () =>
      log.entries
        .filter((e) => e.obj.limit === 'maxPendingHandshakes')
        .reduce((n, e) => n + (e.obj.refused as number), 0)
    await until(() => counted() === 50, 5_000, 'every refusal counted in a line')
    const lines = log.entries.filter((e) => e.obj.limit === 'maxPendingHandshakes')
    expect(lines.length).toBeGreaterThanOrEqual(1)
    expect(lines.length).toBeLessThan(10)
    // Displaced handshakes are not logged one by one either.
    expect(log.entries.filter((e) => e.msg === 'connection refused').length).toBeLessThan(10)
  })

  it('closes inbound connections beyond maxInboundConnections', async () => {
    const log = captureLogger()
    const a = await transports.listening(0, { maxInboundConnections: 2, logger: log })
    await raw(a.listenAddr)
    await until(() => a.peers().length === 1)
    const second = await raw(a.listenAddr, false)
    const third = await raw(a.listenAddr, false)
    await third.closed
    expect(second.isClosed).toBe(false)
    expect(log.entries.some((e) => e.obj.limit === 'maxInboundConnections')).toBe(true)
  })

  it('frees the slot when an inbound connection closes', async () => {
    const a = await transports.listening(0, { maxInboundConnections: 1 })
    const first = await raw(a.listenAddr)
    first.socket.destroy()
    await until(() => a.peers().length === 0)
    const second = await raw(a.listenAddr)
    expect(second.received.some((m) => m.type === 'ready')).toBe(true)
  })
})

describe('keep-alive', () => {
  it('closes a peer that stops answering with ERR_TIMEOUT after the idle timeout', async () => {
    const a = await transports.listening(0, { pingInterval: 30, idleTimeout: 200 })
    const silent = await raw(a.listenAddr)
    const { reason } = await nextPeerClose(a)
    expect(reason).toMatchObject({ code: 'ERR_TIMEOUT' })
    await silent.closed
    expect(silent.received.filter((m) => m.type === 'ping').length).toBeGreaterThan(0)
  })

  it('keeps a peer that answers pings connected well past the idle timeout', async () => {
    const a = await transports.listening(0, { pingInterval: 25, idleTimeout: 400 })
    const live = await raw(a.listenAddr)
    live.autoPong = true
    // 40 pings span 1 s: two and a half idle timeouts.
    await until(() => live.received.filter((m) => m.type === 'ping').length >= 40, 20_000, '40 pings')
    expect(live.isClosed).toBe(false)
    expect(a.peers().map((p) => p.nodeId)).toEqual(['f'.repeat(64)])
  })

  it('keeps two idle transports connected through their own pings', async () => {
    const opts = { pingInterval: 25, idleTimeout: 400 }
    const a = await transports.listening(0, opts)
    const b = await transports.listening(1, opts)
    b.handle(async () => ({ body: 'still here' }))
    const peer = await a.dial(b.listenAddr)
    const watcher = await raw(a.listenAddr)
    watcher.autoPong = true
    // The watcher's pings from `a` pace the test: 40 of them span two and a half idle timeouts.
    await until(() => watcher.received.filter((m) => m.type === 'ping').length >= 40, 20_000, '40 pings')
    expect(a.peer(b.nodeId)).toBe(peer)
    expect((await peer.request('?')).body).toBe('still here')
  })
})

describe('dialing', () => {
  it('retries a refused dial with backoff, then fails with ERR_CONNECTION_CLOSED', async () => {
    const log = captureLogger()
    const a = await transports.make(0, { dialRetries: 3, dialBackoff: 5, logger: log })
    const port = await freePort()
    await expect(a.dial(`127.0.0.1:${port}`)).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
    expect(log.entries.filter((e) => e.msg === 'dial failed; retrying')).toHaveLength(3)
  })

  it('connects once the listener appears during the retries', async () => {
    const port = await freePort()
    const b = await transports.make(1, { port })
    const log = captureLogger()
    let started: Promise<string> | undefined
    log.debug = (obj, msg) => {
      if (msg === 'dial failed; retrying') started ??= b.listen()
      void obj
    }
    const a = await transports.make(0, { dialRetries: 5, dialBackoff: 20, logger: log })
    const peer = await a.dial(`127.0.0.1:${port}`)
    expect(started).toBeDefined()
    expect(peer.nodeId).toBe(b.nodeId)
  })

  it('spreads backoff delays between half and all of an exponential ceiling', () => {
    for (let attempt = 0; attempt < 8; attempt++) {
      const ceiling = Math.min(1000, 10 * 2 ** attempt)
      expect(backoffDelay(attempt, 10, 1000, () => 0)).toBe(ceiling / 2)
      expect(backoffDelay(attempt, 10, 1000, () => 0.999999)).toBeCloseTo(ceiling, 2)
    }
  })

  it('shares one connection between concurrent dials of one address', async () => {
    const a = await transports.listening(0)
    const b = await transports.listening(1)
    const peers = await Promise.all([a.dial(b.listenAddr), a.dial(b.listenAddr), a.dial(b.listenAddr)])
    expect(new Set(peers).size).toBe(1)
    expect(await a.dial(b.listenAddr, { expectNodeId: b.nodeId })).toBe(peers[0])
  })

  it('rejects an address that is not host:port with ERR_INVALID_ARGUMENT', async () => {
    const a = await transports.make(0)
    expect(() => a.dial('localhost')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})

describe('lifecycle', () => {
  it('rejects pending requests with ERR_CONNECTION_CLOSED when the peer goes away', async () => {
    const a = await transports.listening(0)
    const b = await transports.listening(1)
    b.handle(() => new Promise(() => {}))
    const peer = await a.dial(b.listenAddr)
    const pending = expect(peer.request('x', { timeout: 60_000 })).rejects.toMatchObject({
      code: 'ERR_CONNECTION_CLOSED',
    })
    await until(() => b.peers().length === 1)
    const closed = nextPeerClose(a)
    await b.close()
    await pending
    const { peer: gone } = await closed
    expect(gone.nodeId).toBe(b.nodeId)
    expect(a.peers()).toHaveLength(0)
  })

  it('closes a peer that floods requests past the limit and never reads the refusals', async () => {
    const log = captureLogger()
    const a = await transports.listening(0, { maxInflightRequests: 2, logger: log })
    a.handle(() => new Promise(() => {}))
    const r = await raw(a.listenAddr)
    await until(() => a.peers().length === 1)
    const closed = nextPeerClose(a)
    r.socket.pause()
    // Each refusal is a frame of ours: without the bound they would pile up in our write buffer.
    let id = 1
    const burst = (): void => {
      if (r.isClosed) return
      const frames: Buffer[] = []
      for (let i = 0; i < 5_000; i++, id += 2)
        frames.push(encodeFrame(msgpackCodec, { type: 'req', id, body: 0, stream: false }, 64))
      if (r.socket.write(Buffer.concat(frames))) setImmediate(burst)
      else r.socket.once('drain', burst)
    }
    burst()
    const { reason } = await closed
    expect(reason).toMatchObject({ code: 'ERR_PROTOCOL' })
    expect(reason?.message).toMatch(/does not read/)
    expect(log.entries.filter((e) => e.obj.code === 'ERR_TOO_MANY_REQUESTS')).toHaveLength(1)
  })

  it('emits peer for both ends of a new connection', async () => {
    const a = await transports.listening(0)
    const b = await transports.listening(1)
    const seenByB = new Promise<Peer>((resolve) => b.once('peer', resolve))
    const seenByA = new Promise<Peer>((resolve) => a.once('peer', resolve))
    await a.dial(b.listenAddr)
    expect((await seenByA).nodeId).toBe(b.nodeId)
    expect((await seenByB).nodeId).toBe(a.nodeId)
    expect((await seenByB).listenAddr).toBe(a.listenAddr)
  })

  it('answers ERR_NO_HANDLER when the node registered no handler', async () => {
    const a = await transports.listening(0)
    const b = await transports.listening(1)
    const peer = await a.dial(b.listenAddr)
    await expect(peer.request('x')).rejects.toMatchObject({
      code: 'ERR_REMOTE',
      remoteCode: 'ERR_NO_HANDLER',
    })
  })

  it('refuses new dials after close', async () => {
    const a = await transports.listening(0)
    const b = await transports.listening(1)
    await a.close()
    await expect(a.dial(b.listenAddr)).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
  })
})

describe('a requester that grants no credit', () => {
  it('fails the response stream within the request timeout and closes its source', async () => {
    const a = await transports.listening(0, { requestTimeout: 300 })
    let closed = false
    a.handle(async () => ({
      body: 'endless',
      data: (async function* () {
        try {
          for (;;) yield Buffer.alloc(1024 * 1024)
        } finally {
          closed = true
        }
      })(),
    }))
    const r = await raw(a.listenAddr)
    r.autoPong = true
    r.send({ type: 'req', id: 1, body: 'give', stream: false })
    // The first window arrives; no credit is ever sent back.
    await until(() => closed, 5_000, 'the source to be closed')
    await until(() => r.received.some((m) => m.type === 'error' && m.id === 1), 5_000, 'an error frame')
    expect(r.received.find((m) => m.type === 'error')).toMatchObject({ code: 'ERR_TIMEOUT' })
  })
})

describe('inbound budgets', () => {
  const WINDOW = STREAM_WINDOW

  /** A handler that takes every upload and reads none of it until `release` is called. */
  function holdingHandler(t: TcpTransport) {
    const waiting: (() => void)[] = []
    t.handle(async (req) => {
      await new Promise<void>((resolve) => waiting.push(resolve))
      for await (const _ of req.data ?? []) {
        // drain
      }
      return { body: 'ok' }
    })
    return {
      held: () => waiting.length,
      release: () => {
        for (const f of waiting.splice(0)) f()
      },
    }
  }

  function openUploads(r: RawPeer, first: number, count: number): number[] {
    const ids: number[] = []
    for (let i = 0; i < count; i++) {
      const id = first + 2 * i
      ids.push(id)
      r.send({ type: 'req', id, body: 'store', stream: true })
      r.send({ type: 'chunk', id, seq: 0, data: Buffer.alloc(1024) })
    }
    return ids
  }

  const refusedBusy = (r: RawPeer, id: number) =>
    r.received.some((m) => m.type === 'error' && m.id === id && m.code === 'ERR_BUSY')

  it('refuses streamed requests past the connection budget with ERR_BUSY, and takes them again once it frees', async () => {
    const log = captureLogger()
    const a = await transports.listening(0, { maxInboundBuffer: 2 * WINDOW, logger: log })
    const h = holdingHandler(a)
    const r = await raw(a.listenAddr)
    const ids = openUploads(r, 1, 3)
    await until(() => h.held() === 2 && refusedBusy(r, ids[2] as number), 5_000, 'two held, one refused')
    expect(refusedBusy(r, ids[0] as number) || refusedBusy(r, ids[1] as number)).toBe(false)
    expect(log.entries.filter((e) => e.obj.code === 'ERR_BUSY')).toHaveLength(1)
    // Non-streamed requests are not charged.
    r.send({ type: 'req', id: 101, body: 'ping', stream: false })
    await until(() => h.held() === 3, 5_000, 'the plain request to reach the handler')
    for (const id of ids.slice(0, 2)) r.send({ type: 'end', id })
    r.send({ type: 'end', id: 101 })
    h.release()
    await until(() => r.received.filter((m) => m.type === 'res').length === 3, 5_000, 'three answers')
    // The windows were given back: two more fit.
    const again = openUploads(r, 201, 2)
    await until(() => h.held() === 2, 5_000, 'two more held')
    expect(again.some((id) => refusedBusy(r, id))).toBe(false)
  })

  it('shares one node-wide budget between connections', async () => {
    const a = await transports.listening(0, {
      maxInboundBuffer: 2 * WINDOW,
      maxInboundBufferTotal: 3 * WINDOW,
    })
    const h = holdingHandler(a)
    const r1 = await raw(a.listenAddr)
    openUploads(r1, 1, 2)
    await until(() => h.held() === 2, 5_000, 'two held on the first connection')
    const r2 = await RawPeer.connect(a.listenAddr)
    raws.push(r2)
    r2.send({ type: 'hello', proto: PROTOCOL, nodeId: 'e'.repeat(64), sig: new Uint8Array(0) })
    r2.send({ type: 'ready' })
    await until(() => r2.received.some((m) => m.type === 'ready'), 5_000, 'ready')
    const ids = openUploads(r2, 1, 2)
    await until(() => h.held() === 3 && refusedBusy(r2, ids[1] as number), 5_000, 'one held, one refused')
    expect(r2.received.find((m) => m.type === 'error')).toMatchObject({
      message: expect.stringMatching(/this node/),
    })
  })

  it('refuses streamed answers past maxResponseStreams with ERR_BUSY and closes their sources', async () => {
    const a = await transports.listening(0, { maxResponseStreams: 2 })
    let open = 0
    let closed = 0
    a.handle(async () => ({
      body: 'big',
      data: (async function* () {
        open++
        try {
          for (;;) yield Buffer.alloc(64 * 1024)
        } finally {
          closed++
        }
      })(),
    }))
    const r = await raw(a.listenAddr)
    r.autoPong = true
    for (const id of [1, 3, 5]) r.send({ type: 'req', id, body: 'get', stream: false })
    await until(() => refusedBusy(r, 5), 5_000, 'the third answer refused')
    expect(r.received.filter((m) => m.type === 'res')).toHaveLength(2)
    // The refused answer's source never started (an async generator runs on first pull) or was closed.
    expect(open - closed).toBeLessThanOrEqual(2)
  })

  it('disconnects a peer that reads nothing past the request timeout, though it keeps pinging', async () => {
    const a = await transports.listening(0, { requestTimeout: 500, idleTimeout: 60_000 })
    a.handle(async () => ({
      body: 'big',
      data: (async function* () {
        for (;;) yield Buffer.alloc(256 * 1024)
      })(),
    }))
    const r = await raw(a.listenAddr)
    await until(() => a.peers().length === 1)
    const closed = nextPeerClose(a)
    r.socket.pause()
    // Grants credit blindly and pings: all the node can tell is that nothing it writes is read.
    r.send({ type: 'req', id: 1, body: 'get', stream: false })
    r.send({ type: 'credit', id: 1, n: 2 ** 32 })
    const pinger = setInterval(() => r.send({ type: 'ping', n: 0 }), 100)
    try {
      const { reason } = await closed
      expect(reason).toMatchObject({ code: 'ERR_TIMEOUT' })
      expect(reason?.message).toMatch(/read nothing for 500 ms/)
    } finally {
      clearInterval(pinger)
    }
  })
})

describe('inbound caps per address and per address group', () => {
  it('closes connections beyond maxInboundPerAddress from one IP, and takes other IPs', async () => {
    const a = await transports.listening(0, { maxInboundPerAddress: 3, maxInboundPerGroup: 100 })
    const same = await Promise.all([1, 2, 3, 4, 5].map(() => RawPeer.connect(a.listenAddr, '127.0.7.1')))
    raws.push(...same)
    await until(() => same.filter((r) => r.isClosed).length === 2, 5_000, 'two of five closed')
    expect(a.inboundStats).toMatchObject({ connections: 3, refused: 2 })
    // Another address of the same /24 is still welcome.
    const other = await RawPeer.connect(a.listenAddr, '127.0.7.2')
    raws.push(other)
    await until(() => a.inboundStats.connections === 4, 5_000, 'the other address counted')
    expect(other.isClosed).toBe(false)
    // A closed connection frees its address's slot.
    same.find((r) => !r.isClosed)?.socket.destroy()
    await until(() => a.inboundStats.connections === 3, 5_000, 'the slot freed')
    const again = await RawPeer.connect(a.listenAddr, '127.0.7.1')
    raws.push(again)
    await until(() => a.inboundStats.connections === 4, 5_000, 'the freed slot taken')
    expect(again.isClosed).toBe(false)
  })

  it('closes connections beyond maxInboundPerGroup from one /24, and takes other groups', async () => {
    const a = await transports.listening(0, { maxInboundPerAddress: 100, maxInboundPerGroup: 4 })
    const group = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((i) => RawPeer.connect(a.listenAddr, `127.0.8.${i}`)),
    )
    raws.push(...group)
    await until(() => group.filter((r) => r.isClosed).length === 2, 5_000, 'two of six closed')
    const elsewhere = await RawPeer.connect(a.listenAddr, '127.0.9.1')
    raws.push(elsewhere)
    await until(() => a.inboundStats.connections === 5, 5_000, 'another /24 counted')
    expect(elsewhere.isClosed).toBe(false)
  })

  it('dials other loopback nodes from its own loopback listen address', async () => {
    const a = await transports.listening(0, { host: '127.0.10.1' })
    const b = await transports.listening(1, { host: '127.0.11.1' })
    const seen = new Promise<Peer>((resolve) => b.once('peer', resolve))
    await a.dial(b.listenAddr)
    expect((await seen).remoteAddress).toMatch(/^127\.0\.10\.1:/)
  })
})
