import { afterEach, describe, expect, it } from 'vitest'
import type { TcpTransport } from '../src/index.js'
import { Transports, until } from './helpers.js'

const transports = new Transports()
afterEach(() => transports.closeAll())

async function pair(opts = {}): Promise<[TcpTransport, TcpTransport]> {
  const a = await transports.listening(0, opts)
  const b = await transports.listening(1, opts)
  return [a, b]
}

describe('requests over plain TCP', () => {
  it('answers a request with the handler body', async () => {
    const [a, b] = await pair()
    b.handle(async (req) => ({ body: { echo: req.body, from: 'b' } }))
    const peer = await a.dial(b.listenAddr)
    expect(peer.nodeId).toBe(b.nodeId)
    const res = await peer.request({ hello: 'world', n: 3, bin: Buffer.from([1, 2, 3]) })
    expect(res.body).toEqual({ echo: { hello: 'world', n: 3, bin: Buffer.from([1, 2, 3]) }, from: 'b' })
    expect(res.data).toBeUndefined()
  })

  it('serves requests in both directions on one connection', async () => {
    const [a, b] = await pair()
    a.handle(async () => ({ body: 'from a' }))
    b.handle(async () => ({ body: 'from b' }))
    const toB = await a.dial(b.listenAddr)
    await until(() => b.peer(a.nodeId) !== undefined)
    const toA = b.peer(a.nodeId)!
    expect(toA.direction).toBe('inbound')
    const [x, y] = await Promise.all([toB.request(1), toA.request(2)])
    expect([x.body, y.body]).toEqual(['from b', 'from a'])
  })

  it('completes 100 concurrent requests on one connection, each with its own answer', async () => {
    const [a, b] = await pair()
    b.handle(async (req) => {
      const n = req.body as number
      await new Promise((r) => setImmediate(r))
      return { body: n * 2 }
    })
    const peer = await a.dial(b.listenAddr)
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => peer.request(i)))
    expect(answers.map((r) => r.body)).toEqual(Array.from({ length: 100 }, (_, i) => i * 2))
    expect(a.peers()).toHaveLength(1)
  })

  it('rejects with RemoteError carrying the code the handler threw', async () => {
    const [a, b] = await pair()
    b.handle(async () => {
      throw Object.assign(new Error('no such object'), { code: 'ERR_NOT_FOUND' })
    })
    const peer = await a.dial(b.listenAddr)
    await expect(peer.request('x')).rejects.toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'ERR_NOT_FOUND' })
  })

  it('tells the peer an error without the absolute paths in its message', async () => {
    const [a, b] = await pair()
    b.handle(async (req) => {
      if (req.body === 'stream') {
        return {
          body: 'ok',
          data: (async function* () {
            yield Buffer.from('x')
            throw Object.assign(new Error("EIO: i/o error, read '/srv/alice/.cas/store/ab/cd'"), {
              code: 'EIO',
            })
          })(),
        }
      }
      throw Object.assign(new Error("ENOENT: no such file or directory, open '/home/alice/.cas/store/ab'"), {
        code: 'ENOENT',
      })
    })
    const peer = await a.dial(b.listenAddr)
    const err = await peer.request('x').catch((e: unknown) => e)
    expect(err).toMatchObject({ remoteCode: 'ENOENT' })
    expect((err as Error).message).not.toContain('/home/alice')
    expect((err as Error).message).toContain("open '<path>'")
    const res = await peer.request('stream')
    const streamed = await (async () => {
      for await (const _ of res.data ?? []) {
      }
    })().catch((e: unknown) => e)
    expect((streamed as Error).message).not.toContain('/srv/alice')
    expect((streamed as Error).message).toContain("read '<path>'")
  })

  it('times out a request whose handler never answers', async () => {
    const [a, b] = await pair()
    let aborted: Promise<unknown> | undefined
    b.handle((req) => {
      aborted = new Promise((r) => req.signal.addEventListener('abort', r))
      return new Promise(() => {})
    })
    const peer = await a.dial(b.listenAddr)
    await expect(peer.request('x', { timeout: 100 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' })
    await until(() => aborted !== undefined)
    await aborted
  })

  it('rejects requests beyond maxInflightRequests with ERR_TOO_MANY_REQUESTS', async () => {
    const [a, b] = await pair({ maxInflightRequests: 2 })
    const hold: Array<() => void> = []
    b.handle(() => new Promise((resolve) => hold.push(() => resolve({ body: 'ok' }))))
    const peer = await a.dial(b.listenAddr)
    const first = [peer.request(1), peer.request(2)]
    await expect(peer.request(3)).rejects.toMatchObject({ code: 'ERR_TOO_MANY_REQUESTS' })
    await until(() => hold.length === 2)
    for (const release of hold) release()
    expect((await Promise.all(first)).map((r) => r.body)).toEqual(['ok', 'ok'])
  })

  it('aborts a request when its signal fires', async () => {
    const [a, b] = await pair()
    b.handle(() => new Promise(() => {}))
    const peer = await a.dial(b.listenAddr)
    const ac = new AbortController()
    const p = peer.request('x', { signal: ac.signal })
    ac.abort()
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' })
  })
})
