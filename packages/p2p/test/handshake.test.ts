import { randomBytes, sign } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { casHandshake, type HandshakeFunc, PROTOCOL, type TcpTransportOptions } from '../src/index.js'
import { captureLogger, ownerSigner, RawPeer, Transports, until } from './helpers.js'

const transports = new Transports()
afterEach(() => transports.closeAll())

const authed = (opts: Partial<TcpTransportOptions> = {}): Partial<TcpTransportOptions> => ({
  handshake: casHandshake,
  ...opts,
})

describe.each([
  ['plain TCP', false],
  ['TLS', true],
])('the cas/1 handshake over %s', (_name, tls) => {
  it('connects two nodes and proves each owner key', async () => {
    const ownerA = ownerSigner()
    const ownerB = ownerSigner()
    const a = await transports.listening(0, authed({ tls, owner: ownerA }))
    const b = await transports.listening(1, authed({ tls, owner: ownerB }))
    b.handle(async (req) => ({ body: { ownerPub: req.peer.ownerPub, nodeId: req.peer.nodeId } }))
    const peer = await a.dial(b.listenAddr, { expectNodeId: b.nodeId })
    expect(peer.nodeId).toBe(b.nodeId)
    expect(Buffer.from(peer.ownerPub!)).toEqual(Buffer.from(ownerB.publicKeyDer))
    expect(peer.listenAddr).toBe(b.listenAddr)
    const res = await peer.request('who am I')
    expect(res.body).toEqual({ ownerPub: Buffer.from(ownerA.publicKeyDer), nodeId: a.nodeId })
  })

  it('connects nodes that share a network key', async () => {
    const networkKey = randomBytes(32)
    const a = await transports.listening(0, authed({ tls, networkKey }))
    const b = await transports.listening(1, authed({ tls, networkKey }))
    const peer = await a.dial(b.listenAddr)
    expect(peer.nodeId).toBe(b.nodeId)
    expect(peer.ownerPub).toBeUndefined()
  })

  it('refuses a peer with another network key', async () => {
    const logB = captureLogger()
    const a = await transports.listening(0, authed({ tls, networkKey: randomBytes(32) }))
    const b = await transports.listening(1, authed({ tls, networkKey: randomBytes(32), logger: logB }))
    await expect(a.dial(b.listenAddr)).rejects.toMatchObject({ code: 'ERR_HANDSHAKE' })
    await until(() => logB.entries.some((e) => e.msg === 'connection refused'))
    expect(logB.entries.find((e) => e.msg === 'connection refused')?.obj.err).toMatchObject({
      reason: 'network-key',
    })
    expect(a.peers()).toHaveLength(0)
    expect(b.peers()).toHaveLength(0)
  })

  it('refuses a peer that has no network key at all, and says why', async () => {
    const a = await transports.listening(0, authed({ tls }))
    const b = await transports.listening(1, authed({ tls, networkKey: randomBytes(32) }))
    const err = await a.dial(b.listenAddr).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_HANDSHAKE' })
    expect((err as Error).message).toContain('network-key')
  })

  it('refuses a dial that reaches another node than expected', async () => {
    const a = await transports.listening(0, authed({ tls }))
    const b = await transports.listening(1, authed({ tls }))
    const c = await transports.make(2)
    await expect(a.dial(b.listenAddr, { expectNodeId: c.nodeId })).rejects.toMatchObject({
      code: 'ERR_HANDSHAKE',
      reason: 'unexpected-node-id',
    })
    expect(a.peers()).toHaveLength(0)
  })

  it('refuses an owner signature made with another key', async () => {
    const honest = ownerSigner()
    const thief = ownerSigner()
    const forged = {
      publicKeyDer: honest.publicKeyDer,
      sign: (d: Uint8Array) => sign(null, d, thief.privateKey),
    }
    const logB = captureLogger()
    const a = await transports.listening(0, authed({ tls, owner: forged }))
    const b = await transports.listening(1, authed({ tls, logger: logB }))
    await expect(a.dial(b.listenAddr)).rejects.toMatchObject({ code: 'ERR_HANDSHAKE', reason: 'rejected' })
    await until(() => logB.entries.some((e) => e.msg === 'connection refused'))
    expect(logB.entries.find((e) => e.msg === 'connection refused')?.obj.err).toMatchObject({
      reason: 'signature',
    })
  })

  it('refuses to connect to itself', async () => {
    const a = await transports.listening(0, authed({ tls }))
    await expect(a.dial(a.listenAddr)).rejects.toMatchObject({ code: 'ERR_HANDSHAKE', reason: 'self' })
    expect(a.peers()).toHaveLength(0)
  })

  it('closes a client that connects and sends nothing at the handshake deadline', async () => {
    const log = captureLogger()
    const a = await transports.listening(0, authed({ tls, handshakeTimeout: 300, logger: log }))
    const started = Date.now()
    const silent = await RawPeer.connect(a.listenAddr)
    await silent.closed
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    await until(() => log.entries.some((e) => e.msg === 'connection refused'))
    expect(log.entries.find((e) => e.msg === 'connection refused')?.obj.err).toMatchObject({
      code: 'ERR_HANDSHAKE',
      reason: 'timeout',
    })
    const b = await transports.listening(1, authed({ tls }))
    await expect(b.dial(a.listenAddr)).resolves.toMatchObject({ nodeId: a.nodeId })
  })

  it('refuses a peer speaking another protocol version', async () => {
    const future: HandshakeFunc = (ctx) =>
      casHandshake({ ...ctx, send: (m) => ctx.send(m.type === 'hello' ? { ...m, proto: 'cas/9' } : m) })
    const log = captureLogger()
    const a = await transports.listening(0, authed({ tls, handshake: future }))
    const b = await transports.listening(1, authed({ tls, logger: log }))
    await expect(a.dial(b.listenAddr)).rejects.toMatchObject({ code: 'ERR_HANDSHAKE' })
    await until(() => log.entries.some((e) => e.msg === 'connection refused'))
    expect(log.entries.find((e) => e.msg === 'connection refused')?.obj.err).toMatchObject({
      reason: 'version',
    })
  })

  it('ends simultaneous dials between two nodes with one connection', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await transports.listening(0, authed({ tls }))
      const b = await transports.listening(1, authed({ tls }))
      b.handle(async () => ({ body: 'b' }))
      a.handle(async () => ({ body: 'a' }))
      const [toB, toA] = await Promise.all([a.dial(b.listenAddr), b.dial(a.listenAddr)])
      expect(toB.nodeId).toBe(b.nodeId)
      expect(toA.nodeId).toBe(a.nodeId)
      await until(() => a.peers().length === 1 && b.peers().length === 1, 5_000, 'one connection each')
      // Both sides hold the two ends of the same socket.
      const [pa] = a.peers()
      const [pb] = b.peers()
      expect(pa!.direction).not.toBe(pb!.direction)
      expect((await toB.request(1)).body).toBe('b')
      expect((await toA.request(1)).body).toBe('a')
      await transports.closeAll()
    }
  })
})

describe('handshake details', () => {
  it('proves the nodeId on plain TCP with the node key: a forged nodeId is refused', async () => {
    const liar: HandshakeFunc = async (ctx) =>
      casHandshake({ ...ctx, local: { ...ctx.local, nodeId: 'a'.repeat(64) } })
    const log = captureLogger()
    const a = await transports.listening(0, authed({ handshake: liar }))
    const b = await transports.listening(1, authed({ logger: log }))
    await expect(a.dial(b.listenAddr)).rejects.toMatchObject({ code: 'ERR_HANDSHAKE' })
    await until(() => log.entries.some((e) => e.msg === 'connection refused'))
    expect(log.entries.find((e) => e.msg === 'connection refused')?.obj.err).toMatchObject({
      reason: 'node-id',
    })
  })

  it('over TLS, rejects a dial whose certificate is not the expected node before any hello', async () => {
    const a = await transports.listening(0, authed({ tls: true }))
    const b = await transports.listening(1, authed({ tls: true }))
    const c = await transports.make(2)
    await expect(a.dial(b.listenAddr, { expectNodeId: c.nodeId })).rejects.toMatchObject({
      reason: 'unexpected-node-id',
    })
  })

  it('a plain TCP client cannot talk to a TLS listener', async () => {
    const a = await transports.listening(0, authed({ tls: true, handshakeTimeout: 2_000 }))
    const b = await transports.listening(1, authed({ tls: false, handshakeTimeout: 2_000 }))
    await expect(b.dial(a.listenAddr, { retries: 0 })).rejects.toMatchObject({
      code: expect.stringMatching(/^ERR_/),
    })
    expect(a.peers()).toHaveLength(0)
  })

  it('the raw hello of a nop handshake carries the protocol version', async () => {
    const a = await transports.listening(0)
    const raw = await RawPeer.handshaken(a.listenAddr)
    expect(raw.received[0]).toMatchObject({ type: 'hello', proto: PROTOCOL, nodeId: a.nodeId })
    raw.socket.destroy()
  })
})

describe('a private network over plain TCP, against a raw peer', () => {
  it('says nothing of itself (no hello) to a peer that cannot prove the network key', async () => {
    const logB = captureLogger()
    const b = await transports.listening(
      1,
      authed({ networkKey: randomBytes(32), owner: ownerSigner(), logger: logB }),
    )
    const raw = await RawPeer.connect(b.listenAddr)
    try {
      raw.send({ type: 'challenge', nonce: randomBytes(32) })
      // A peer without the key can only guess the proof, or skip to its hello.
      raw.send({ type: 'network', proof: randomBytes(32) })
      await raw.closed
      expect(raw.received.map((m) => m.type)).not.toContain('hello')
      expect(raw.received.map((m) => m.type)).toContain('network')
      await until(() => logB.entries.some((e) => e.msg === 'connection refused'))
      expect(logB.entries.find((e) => e.msg === 'connection refused')?.obj.err).toMatchObject({
        reason: 'network-key',
      })
    } finally {
      raw.socket.destroy()
    }
  })
})
