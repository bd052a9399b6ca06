import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_CHUNK_SIZE, STREAM_WINDOW, type TcpTransport } from '../src/index.js'
import { digest, digestOf, patternStream, Transports, until } from './helpers.js'

const MiB = 1024 * 1024
const transports = new Transports()
afterEach(() => transports.closeAll())

async function pair(opts = {}): Promise<[TcpTransport, TcpTransport]> {
  return [await transports.listening(0, opts), await transports.listening(1, opts)]
}

describe.each([
  ['plain TCP', false],
  ['TLS', true],
])('streams over %s', (_name, tls) => {
  it('streams a response larger than the window, every byte intact', async () => {
    const [a, b] = await pair({ tls })
    b.handle(async (req) => ({ body: { size: 20 * MiB }, data: patternStream(20 * MiB, req.body as number) }))
    const peer = await a.dial(b.listenAddr)
    const res = await peer.request(7)
    expect(res.body).toEqual({ size: 20 * MiB })
    expect(await digest(res.data!)).toEqual(await digest(patternStream(20 * MiB, 7)))
  })

  it('streams request data to the handler and its answer back', async () => {
    const [a, b] = await pair({ tls })
    b.handle(async (req) => ({ body: await digest(req.data!) }))
    const peer = await a.dial(b.listenAddr)
    const res = await peer.request('upload', { data: patternStream(9 * MiB + 123, 3) })
    expect(res.body).toEqual(await digest(patternStream(9 * MiB + 123, 3)))
  })

  it('carries 10 concurrent 50 MiB streams on one connection with every byte checked', {
    timeout: 120_000,
  }, async () => {
    const [a, b] = await pair({ tls })
    b.handle(async (req) => ({ body: null, data: patternStream(50 * MiB, req.body as number, 256 * 1024) }))
    const peer = await a.dial(b.listenAddr)
    const seeds = Array.from({ length: 10 }, (_, i) => i + 100)
    let peak = 0
    let seen = 0
    const watched = async function* (data: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      for await (const chunk of data) {
        if (seen++ % 64 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers)
        yield chunk
      }
    }
    const got = await Promise.all(
      seeds.map(async (seed) => {
        const res = await peer.request(seed)
        return digest(watched(res.data!))
      }),
    )
    // Both ends live in this process: what they hold at once stays far below the 500 MiB carried.
    expect(peak).toBeLessThan(200 * MiB)
    const want = await Promise.all(seeds.map((seed) => digest(patternStream(50 * MiB, seed))))
    expect(got).toEqual(want)
    expect(a.peers()).toHaveLength(1)
    expect(b.peers()).toHaveLength(1)
  })
})

describe('backpressure and failures', () => {
  it('a stalled consumer stops its sender within one window while the connection keeps serving', async () => {
    const [a, b] = await pair()
    let produced = 0
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        const piece = Buffer.alloc(DEFAULT_CHUNK_SIZE, 1)
        produced += piece.length
        yield piece
      }
    }
    b.handle(async (req) => (req.body === 'big' ? { body: null, data: endless() } : { body: 'pong' }))
    const peer = await a.dial(b.listenAddr)
    const res = await peer.request('big')
    await until(() => produced >= STREAM_WINDOW, 10_000, 'the sender to fill the window')
    for (let i = 0; i < 20; i++) expect((await peer.request('ping')).body).toBe('pong')
    expect(produced).toBeLessThanOrEqual(STREAM_WINDOW + 2 * DEFAULT_CHUNK_SIZE)

    // Reading on lets the sender go on, never more than a window ahead of the reader.
    let consumed = 0
    for await (const chunk of res.data!) {
      consumed += chunk.length
      expect(produced - consumed).toBeLessThanOrEqual(STREAM_WINDOW + 2 * DEFAULT_CHUNK_SIZE)
      if (consumed >= 40 * MiB) break
    }
    expect(consumed).toBeGreaterThanOrEqual(40 * MiB)
  })

  it('a slow handler slows the uploader: the source is read only as fast as the handler reads', async () => {
    const [a, b] = await pair()
    let produced = 0
    let consumed = 0
    let worst = 0
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 128; i++) {
        produced += 128 * 1024
        worst = Math.max(worst, produced - consumed)
        yield Buffer.alloc(128 * 1024, i)
      }
    }
    b.handle(async (req) => {
      for await (const chunk of req.data!) {
        consumed += chunk.length
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
      }
      return { body: consumed }
    })
    const peer = await a.dial(b.listenAddr)
    expect((await peer.request('up', { data: source() })).body).toBe(16 * MiB)
    expect(worst).toBeLessThanOrEqual(STREAM_WINDOW + 2 * 128 * 1024)
  })

  it('an upload that lasts longer than the request timeout succeeds while it makes progress', async () => {
    const [a, b] = await pair()
    const timeout = 300
    let consumed: () => void = () => {}
    b.handle(async (req) => {
      let size = 0
      for await (const chunk of req.data!) {
        size += chunk.length
        consumed()
      }
      return { body: size }
    })
    const peer = await a.dial(b.listenAddr)
    const started = Date.now()
    let sent = 0
    // Each piece goes out once the handler has read the one before: steady progress,
    // for three times as long as the request may stay silent.
    async function* lockstep(): AsyncGenerator<Uint8Array> {
      while (Date.now() - started < 3 * timeout) {
        const read = new Promise<void>((resolve) => (consumed = resolve))
        sent += 1024
        yield Buffer.alloc(1024, 1)
        await read
      }
    }
    const res = await peer.request('up', { data: lockstep(), timeout })
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * timeout)
    expect(res.body).toBe(sent)
  })

  it('a peer dropping mid-stream fails the waiting reader with ERR_CONNECTION_CLOSED', async () => {
    const [a, b] = await pair()
    b.handle(async () => {
      async function* dying(): AsyncGenerator<Uint8Array> {
        yield Buffer.alloc(MiB, 1)
        yield Buffer.alloc(MiB, 2)
        b.peer(a.nodeId)!.close('dropping mid-stream')
        await new Promise(() => {})
      }
      return { body: null, data: dying() }
    })
    const peer = await a.dial(b.listenAddr)
    const res = await peer.request('x', { timeout: 60_000 })
    await expect(digestOf(res.data!)).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
  })

  it('a peer that stops sending mid-stream fails the reader with ERR_TIMEOUT within the timeout', async () => {
    const [a, b] = await pair({ requestTimeout: 300 })
    let cancelled = false
    b.handle(async (req) => {
      req.signal.addEventListener('abort', () => {
        cancelled = true
      })
      async function* stalling(): AsyncGenerator<Uint8Array> {
        yield Buffer.alloc(1000, 1)
        await new Promise(() => {})
      }
      return { body: null, data: stalling() }
    })
    const peer = await a.dial(b.listenAddr)
    const res = await peer.request('x')
    const started = Date.now()
    await expect(digestOf(res.data!)).rejects.toMatchObject({ code: 'ERR_TIMEOUT' })
    expect(Date.now() - started).toBeLessThan(5_000)
    await until(() => cancelled, 5_000, 'the handler to see the cancel')
  })

  it('breaking out of a response stream cancels the sender', async () => {
    const [a, b] = await pair()
    let finished = false
    b.handle(async () => {
      async function* endless(): AsyncGenerator<Uint8Array> {
        try {
          for (;;) yield Buffer.alloc(64 * 1024)
        } finally {
          finished = true
        }
      }
      return { body: null, data: endless() }
    })
    const peer = await a.dial(b.listenAddr)
    const res = await peer.request('x')
    for await (const _ of res.data!) break
    await until(() => finished, 5_000, 'the source to be closed')
    expect((await peer.request('still alive', { timeout: 5_000 })).data).toBeDefined()
  })

  it('a failing response source reaches the reader as RemoteError with its code', async () => {
    const [a, b] = await pair()
    b.handle(async () => {
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield Buffer.alloc(10)
        throw Object.assign(new Error('disk on fire'), { code: 'ERR_STORE_IO' })
      }
      return { body: null, data: failing() }
    })
    const peer = await a.dial(b.listenAddr)
    const res = await peer.request('x')
    await expect(digestOf(res.data!)).rejects.toMatchObject({
      code: 'ERR_REMOTE',
      remoteCode: 'ERR_STORE_IO',
    })
  })
})
