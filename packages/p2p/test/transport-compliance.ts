import { afterEach, describe, expect, it } from 'vitest'
import {
  AbortedError,
  ConnectionClosedError,
  DEFAULT_CHUNK_SIZE,
  HandshakeError,
  type Peer,
  RemoteError,
  STREAM_WINDOW,
  TimeoutError,
  type Transport,
} from '../src/index.js'
import { digest, digestOf, patternStream, until } from './helpers.js'

const MiB = 1024 * 1024

/**
 * Makes a transport for node `index` (one index, one identity, so one nodeId), not yet
 * listening, with the package defaults otherwise. The suite closes every one it made.
 */
export type TransportFactory = (index: number) => Promise<Transport>

/**
 * What every Transport must do, as the server relies on it. Run it once per implementation
 * (and per mode); it asserts on what a user of the interface observes, nothing else.
 */
export function transportComplianceSuite(name: string, factory: TransportFactory): void {
  describe(`${name}: the Transport contract`, () => {
    let made: Transport[] = []
    afterEach(async () => {
      const all = made
      made = []
      await Promise.all(all.map((t) => t.close()))
    })

    async function node(index: number, listen = true): Promise<Transport> {
      const t = await factory(index)
      made.push(t)
      if (listen) await t.listen()
      return t
    }

    /** Nodes 0 and 1, `a` dialled `b`, and both ends of their connection. */
    async function connected(): Promise<{ a: Transport; b: Transport; ab: Peer; ba: Peer }> {
      const a = await node(0)
      const b = await node(1)
      const seen = nextPeer(b, a.nodeId)
      const ab = await a.dial(b.listenAddr)
      return { a, b, ab, ba: await seen }
    }

    describe('connections', () => {
      it('listens on the address it reports, and a dial there reaches that node', async () => {
        const a = await node(0)
        const b = await node(1, false)
        const addr = await b.listen()
        expect(addr).toBe(b.listenAddr)
        const peer = await a.dial(addr)
        expect(peer).toMatchObject({ nodeId: b.nodeId, direction: 'outbound', listenAddr: b.listenAddr })
        expect(typeof peer.remoteAddress).toBe('string')
      })

      it('lists the connection on both ends, the listener seeing it as inbound', async () => {
        const { a, b, ab, ba } = await connected()
        expect(a.peers()).toEqual([ab])
        expect(a.peer(b.nodeId)).toBe(ab)
        expect(b.peers()).toEqual([ba])
        expect(b.peer(a.nodeId)).toBe(ba)
        expect(ba).toMatchObject({ nodeId: a.nodeId, direction: 'inbound', listenAddr: a.listenAddr })
        expect(a.peer('0'.repeat(64))).toBeUndefined()
      })

      it('emits peer on both ends of a new connection', async () => {
        const a = await node(0)
        const b = await node(1)
        const seenByA = nextPeer(a)
        const seenByB = nextPeer(b)
        const peer = await a.dial(b.listenAddr)
        expect(await seenByA).toBe(peer)
        expect((await seenByB).nodeId).toBe(a.nodeId)
      })

      it('shares one connection between concurrent dials of one address, and reuses it by nodeId', async () => {
        const a = await node(0)
        const b = await node(1)
        const peers = await Promise.all([a.dial(b.listenAddr), a.dial(b.listenAddr), a.dial(b.listenAddr)])
        expect(new Set(peers).size).toBe(1)
        expect(await a.dial(b.listenAddr, { expectNodeId: b.nodeId })).toBe(peers[0])
        expect(a.peers()).toHaveLength(1)
      })

      it('ends two nodes dialling each other at once with one connection, one end on each', async () => {
        for (let round = 0; round < 3; round++) {
          const a = await node(0)
          const b = await node(1)
          a.handle(async () => ({ body: 'a' }))
          b.handle(async () => ({ body: 'b' }))
          const [toB, toA] = await Promise.all([a.dial(b.listenAddr), b.dial(a.listenAddr)])
          await until(() => a.peers().length === 1 && b.peers().length === 1, 5_000, 'one connection each')
          const [pa] = a.peers()
          const [pb] = b.peers()
          expect(pa?.direction).not.toBe(pb?.direction)
          expect((await toB.request(1)).body).toBe('b')
          expect((await toA.request(1)).body).toBe('a')
          await Promise.all(made.splice(0).map((t) => t.close()))
        }
      })

      it('refuses a dial that reaches another node than expected with a HandshakeError, keeping nothing', async () => {
        const a = await node(0)
        const b = await node(1)
        const c = await node(2, false)
        const err = await a.dial(b.listenAddr, { expectNodeId: c.nodeId }).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(HandshakeError)
        expect(err).toMatchObject({ code: 'ERR_HANDSHAKE', reason: 'unexpected-node-id' })
        expect(a.peers()).toHaveLength(0)
        expect(b.peers()).toHaveLength(0)
      })

      it('refuses an address of the wrong form with ERR_INVALID_ARGUMENT', async () => {
        const a = await node(0)
        // A synchronous throw and a rejection are both acceptable ways to refuse.
        await expect((async () => a.dial('no address'))()).rejects.toMatchObject({
          code: 'ERR_INVALID_ARGUMENT',
        })
      })

      it('fails a dial where nothing listens with ERR_CONNECTION_CLOSED', async () => {
        const a = await node(0)
        const b = await node(1)
        const addr = b.listenAddr
        await b.close()
        await expect(a.dial(addr, { retries: 0 })).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
      })

      it('connects again after a connection closed', async () => {
        const { a, b, ab } = await connected()
        b.handle(async () => ({ body: 'again' }))
        const gone = nextPeerClose(b)
        ab.close()
        await gone
        await until(() => a.peers().length === 0, 5_000, 'the old connection gone')
        const again = await a.dial(b.listenAddr)
        expect(again).not.toBe(ab)
        expect((await again.request('?')).body).toBe('again')
      })
    })

    describe('requests', () => {
      it('serves requests both ways on one connection, telling the handler who asks', async () => {
        const { a, b, ab, ba } = await connected()
        a.handle(async (req) => ({ body: { me: 'a', you: req.peer.nodeId, echo: req.body } }))
        b.handle(async (req) => ({ body: { me: 'b', you: req.peer.nodeId, echo: req.body } }))
        const [x, y] = await Promise.all([ab.request(1), ba.request(2)])
        expect(x).toEqual({ body: { me: 'b', you: a.nodeId, echo: 1 }, data: undefined })
        expect(y).toEqual({ body: { me: 'a', you: b.nodeId, echo: 2 }, data: undefined })
      })

      it('carries bodies as encoded data: the handler gets a copy, not the sender object', async () => {
        const { b, ab } = await connected()
        const got: unknown[] = []
        b.handle(async (req) => {
          got.push(req.body)
          return { body: req.body }
        })
        const bin = Buffer.from([1, 2, 3])
        const sent = { bin, list: [1, 'two', null, true], nested: { deep: [{ x: 1.5 }] } }
        const res = await ab.request(sent)
        expect(res.body).toEqual(sent)
        expect(got[0]).toEqual(sent)
        expect(got[0]).not.toBe(sent)
        const received = (got[0] as { bin: Uint8Array }).bin
        expect(received).not.toBe(bin)
        bin[0] = 99
        expect(received[0]).toBe(1)
      })

      it('completes 50 concurrent requests, each with its own answer', async () => {
        const { b, ab } = await connected()
        b.handle(async (req) => {
          await new Promise((r) => setImmediate(r))
          return { body: (req.body as number) * 2 }
        })
        const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => ab.request(i)))
        expect(answers.map((r) => r.body)).toEqual(Array.from({ length: 50 }, (_, i) => i * 2))
      })

      it('rejects with RemoteError carrying the code the handler threw', async () => {
        const { b, ab } = await connected()
        b.handle(async () => {
          throw Object.assign(new Error('no such object'), { code: 'ERR_NOT_FOUND' })
        })
        const err = await ab.request('x').catch((e: unknown) => e)
        expect(err).toBeInstanceOf(RemoteError)
        expect(err).toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'ERR_NOT_FOUND' })
        expect((err as Error).message).toContain('no such object')
      })

      it('answers ERR_NO_HANDLER when the node registered no handler', async () => {
        const { ab } = await connected()
        await expect(ab.request('x')).rejects.toMatchObject({
          code: 'ERR_REMOTE',
          remoteCode: 'ERR_NO_HANDLER',
        })
      })

      it('times out a request whose handler never answers, and aborts the handler', async () => {
        const { b, ab } = await connected()
        const aborted: Promise<void>[] = []
        b.handle((req) => {
          aborted.push(new Promise<void>((r) => req.signal.addEventListener('abort', () => r())))
          return new Promise(() => {})
        })
        const err = await ab.request('x', { timeout: 100 }).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(TimeoutError)
        expect(err).toMatchObject({ code: 'ERR_TIMEOUT' })
        await until(() => aborted.length === 1, 5_000, 'the handler to run')
        await aborted[0]
      })

      it('aborts a request when its signal fires, and the handler sees the abort', async () => {
        const { b, ab } = await connected()
        let started: () => void = () => {}
        const running = new Promise<void>((r) => (started = r))
        let handlerSignal: AbortSignal | undefined
        b.handle((req) => {
          handlerSignal = req.signal
          started()
          return new Promise(() => {})
        })
        const ac = new AbortController()
        const p = ab.request('x', { signal: ac.signal })
        await running
        ac.abort()
        const err = await p.catch((e: unknown) => e)
        expect(err).toBeInstanceOf(AbortedError)
        expect(err).toMatchObject({ code: 'ERR_ABORTED' })
        await until(() => handlerSignal?.aborted === true, 5_000, 'the handler to see the abort')
      })

      it('rejects at once a request whose signal has already fired', async () => {
        const { ab } = await connected()
        await expect(ab.request('x', { signal: AbortSignal.abort() })).rejects.toMatchObject({
          code: 'ERR_ABORTED',
        })
      })
    })

    describe('streams', () => {
      it('streams a response of several MiB, every byte intact', async () => {
        const { b, ab } = await connected()
        const size = 3 * STREAM_WINDOW + 12_345
        b.handle(async (req) => ({ body: { size }, data: patternStream(size, req.body as number) }))
        const res = await ab.request(7)
        expect(res.body).toEqual({ size })
        expect(await digest(res.data!)).toEqual(await digest(patternStream(size, 7)))
      })

      it('streams request data of several MiB to the handler, every byte intact', async () => {
        const { b, ab } = await connected()
        const size = 2 * STREAM_WINDOW + 321
        b.handle(async (req) => ({ body: await digest(req.data!) }))
        const res = await ab.request('upload', { data: patternStream(size, 3) })
        expect(res.body).toEqual(await digest(patternStream(size, 3)))
      })

      it('streams both ways at once: an upload echoed back as it arrives', async () => {
        const { a, b, ab } = await connected()
        a.handle(async () => ({ body: 'unused' }))
        b.handle(async (req) => ({ body: 'echo', data: req.data! }))
        const size = 6 * MiB
        const res = await ab.request('echo', { data: patternStream(size, 11) })
        expect(res.body).toBe('echo')
        expect(await digest(res.data!)).toEqual(await digest(patternStream(size, 11)))
      })

      it('holds a sender to one window ahead of a stalled reader, while the connection serves others', async () => {
        const { b, ab } = await connected()
        let produced = 0
        async function* endless(): AsyncGenerator<Uint8Array> {
          for (;;) {
            const piece = Buffer.alloc(DEFAULT_CHUNK_SIZE, 1)
            produced += piece.length
            yield piece
          }
        }
        b.handle(async (req) => (req.body === 'big' ? { body: null, data: endless() } : { body: 'pong' }))
        const res = await ab.request('big')
        const bound = STREAM_WINDOW + 2 * DEFAULT_CHUNK_SIZE
        await until(() => produced >= STREAM_WINDOW, 10_000, 'the sender to fill the window')
        // Round trips let the sender run as long as it would; it must stay within its window.
        for (let i = 0; i < 20; i++) expect((await ab.request('ping')).body).toBe('pong')
        expect(produced).toBeLessThanOrEqual(bound)
        let consumed = 0
        for await (const chunk of res.data!) {
          consumed += chunk.length
          expect(produced - consumed).toBeLessThanOrEqual(bound)
          if (consumed >= 5 * STREAM_WINDOW) break
        }
        expect(consumed).toBeGreaterThanOrEqual(5 * STREAM_WINDOW)
      })

      it('reads an upload source no faster than one window ahead of a slow handler', async () => {
        const { b, ab } = await connected()
        const piece = 128 * 1024
        let produced = 0
        let consumed = 0
        let worst = 0
        async function* source(): AsyncGenerator<Uint8Array> {
          for (let i = 0; i < 96; i++) {
            produced += piece
            worst = Math.max(worst, produced - consumed)
            yield Buffer.alloc(piece, i)
          }
        }
        b.handle(async (req) => {
          for await (const chunk of req.data!) {
            consumed += chunk.length
            for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r))
          }
          return { body: consumed }
        })
        expect((await ab.request('up', { data: source() })).body).toBe(96 * piece)
        expect(worst).toBeLessThanOrEqual(STREAM_WINDOW + 2 * piece)
      })

      it('cancels the sender and closes its source when the reader breaks out', async () => {
        const { b, ab } = await connected()
        let finished = false
        b.handle(async (req) => {
          if (req.body === 'ping') return { body: 'pong' }
          async function* endless(): AsyncGenerator<Uint8Array> {
            try {
              for (;;) yield Buffer.alloc(64 * 1024)
            } finally {
              finished = true
            }
          }
          return { body: null, data: endless() }
        })
        const res = await ab.request('x')
        for await (const _ of res.data!) break
        await until(() => finished, 5_000, 'the source to be closed')
        expect((await ab.request('ping')).body).toBe('pong')
      })

      it('fails the reader with RemoteError carrying the code of a failing source', async () => {
        const { b, ab } = await connected()
        b.handle(async () => ({
          body: null,
          data: (async function* () {
            yield Buffer.alloc(10)
            throw Object.assign(new Error('disk on fire'), { code: 'ERR_STORE_IO' })
          })(),
        }))
        const res = await ab.request('x')
        const err = await digestOf(res.data!).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(RemoteError)
        expect(err).toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'ERR_STORE_IO' })
      })

      it('fails the reader with ERR_TIMEOUT when the sender stops mid-stream', async () => {
        const { b, ab } = await connected()
        b.handle(async () => ({
          body: null,
          data: (async function* () {
            yield Buffer.alloc(1000, 1)
            await new Promise(() => {})
          })(),
        }))
        const res = await ab.request('x', { timeout: 200 })
        await expect(digestOf(res.data!)).rejects.toMatchObject({ code: 'ERR_TIMEOUT' })
      })
    })

    describe('closing', () => {
      it('rejects pending requests on both ends with ConnectionClosedError when a peer is closed', async () => {
        const { a, b, ab, ba } = await connected()
        a.handle(() => new Promise(() => {}))
        b.handle(() => new Promise(() => {}))
        const fromA = ab.request('x', { timeout: 60_000 }).catch((e: unknown) => e)
        const fromB = ba.request('y', { timeout: 60_000 }).catch((e: unknown) => e)
        ab.close('done here')
        for (const err of [await fromA, await fromB]) {
          expect(err).toBeInstanceOf(ConnectionClosedError)
          expect(err).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
        }
        await expect(ab.request('after')).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
      })

      it('emits peer:close on both ends with a reason, and forgets the peer', async () => {
        const { a, b, ab } = await connected()
        const closedA = nextPeerClose(a)
        const closedB = nextPeerClose(b)
        ab.close()
        const [atA, atB] = await Promise.all([closedA, closedB])
        expect(atA.peer).toBe(ab)
        expect(atB.peer.nodeId).toBe(a.nodeId)
        expect(atA.reason).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
        expect(atB.reason).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
        expect(a.peer(b.nodeId)).toBeUndefined()
        expect(b.peer(a.nodeId)).toBeUndefined()
      })

      it('fails a reader mid-stream with ERR_CONNECTION_CLOSED when the peer drops', async () => {
        const { a, b, ab } = await connected()
        b.handle(async () => ({
          body: null,
          data: (async function* () {
            yield Buffer.alloc(MiB, 1)
            yield Buffer.alloc(MiB, 2)
            b.peer(a.nodeId)?.close('dropping mid-stream')
            await new Promise(() => {})
          })(),
        }))
        const res = await ab.request('x', { timeout: 60_000 })
        await expect(digestOf(res.data!)).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
      })

      it('close() ends every connection, rejects pending requests and refuses later dials', async () => {
        const { a, b, ab } = await connected()
        b.handle(() => new Promise(() => {}))
        const pending = ab.request('x', { timeout: 60_000 }).catch((e: unknown) => e)
        const closedB = nextPeerClose(b)
        await a.close()
        expect(await pending).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
        expect((await closedB).peer.nodeId).toBe(a.nodeId)
        expect(a.peers()).toHaveLength(0)
        await until(() => b.peers().length === 0, 5_000, 'b to drop a')
        await expect(a.dial(b.listenAddr)).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
        await expect(b.dial(a.listenAddr, { retries: 0 })).rejects.toMatchObject({
          code: 'ERR_CONNECTION_CLOSED',
        })
      })
    })
  })
}

/** The next `peer` event (of `nodeId`, when given). Transport has no off(); the suite closes it after. */
function nextPeer(t: Transport, nodeId?: string): Promise<Peer> {
  return new Promise((resolve) => {
    let done = false
    t.on('peer', (peer) => {
      if (done || (nodeId !== undefined && peer.nodeId !== nodeId)) return
      done = true
      resolve(peer)
    })
  })
}

function nextPeerClose(t: Transport): Promise<{ peer: Peer; reason: Error | undefined }> {
  return new Promise((resolve) => {
    let done = false
    t.on('peer:close', (peer, reason) => {
      if (done) return
      done = true
      resolve({ peer, reason })
    })
  })
}
