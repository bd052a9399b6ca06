import { randomBytes } from 'node:crypto'
import { Packr } from 'msgpackr'
import { afterEach, describe, expect, it } from 'vitest'
import { casHandshake, PROTOCOL, type TcpTransport } from '../src/index.js'
import { captureLogger, nextPeerClose, RAW_NODE_ID, RawPeer, Transports, until } from './helpers.js'

const transports = new Transports()
const raws: RawPeer[] = []
afterEach(async () => {
  for (const r of raws.splice(0)) r.socket.destroy()
  await transports.closeAll()
})

const loosePackr = new Packr({ useRecords: false })

function frame(body: Uint8Array): Buffer {
  const header = Buffer.alloc(4)
  header.writeUInt32BE(body.length)
  return Buffer.concat([header, body])
}

/** A transport under attack, with an honest peer already connected to it. */
async function target(): Promise<{ a: TcpTransport; honest: TcpTransport }> {
  const a = await transports.listening(0)
  a.handle(async (req) => ({ body: { ok: req.body } }))
  const honest = await transports.listening(1)
  await honest.dial(a.listenAddr)
  return { a, honest }
}

/** Sends `bytes` from a raw peer that finished the handshake; returns the reason `a` closed it with. */
async function attack(a: TcpTransport, send: (raw: RawPeer) => void): Promise<Error | undefined> {
  const raw = await RawPeer.handshaken(a.listenAddr)
  raws.push(raw)
  await until(() => a.peers().length === 2)
  const closed = nextPeerClose(a)
  send(raw)
  const { peer, reason } = await closed
  expect(peer.nodeId).toBe('f'.repeat(64))
  await raw.closed
  return reason
}

/** The transport still serves its old peer and a new one. */
async function stillServes(a: TcpTransport, honest: TcpTransport): Promise<void> {
  const old = honest.peer(a.nodeId)!
  expect((await old.request('old friend')).body).toEqual({ ok: 'old friend' })
  const fresh = await transports.listening(2)
  expect((await (await fresh.dial(a.listenAddr)).request('new friend')).body).toEqual({ ok: 'new friend' })
}

describe('hostile input closes only that connection, with its typed reason', () => {
  it('a declared length of 4 GiB: ERR_FRAME_TOO_LARGE before any body is buffered', async () => {
    const { a, honest } = await target()
    const reason = await attack(a, (raw) => raw.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3])))
    expect(reason).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE', size: 2 ** 32 - 1 })
    await stillServes(a, honest)
  })

  it('a 10,000-deep nested array: ERR_DECODE, without recursing', async () => {
    const { a, honest } = await target()
    const deep = Buffer.concat([Buffer.alloc(10_000, 0x91), Buffer.from([0xc0])])
    const reason = await attack(a, (raw) => raw.socket.write(frame(deep)))
    expect(reason).toMatchObject({ code: 'ERR_DECODE' })
    expect(reason?.message).toContain('nesting')
    await stillServes(a, honest)
  })

  it('a request whose body nests 10,000 arrays deep: ERR_DECODE', async () => {
    const { a, honest } = await target()
    const head = loosePackr.pack({ type: 'req', id: 1, stream: false, body: 0 })
    // Swap the trailing body value (0x00) for the deep array.
    const deep = Buffer.concat([
      head.subarray(0, head.length - 1),
      Buffer.alloc(10_000, 0x91),
      Buffer.from([0xc0]),
    ])
    const reason = await attack(a, (raw) => raw.socket.write(frame(deep)))
    expect(reason).toMatchObject({ code: 'ERR_DECODE' })
    await stillServes(a, honest)
  })

  it('a frame whose msgpack body is cut short: ERR_DECODE', async () => {
    const { a, honest } = await target()
    const whole = loosePackr.pack({ type: 'req', id: 1, stream: false, body: 'x'.repeat(100) })
    const reason = await attack(a, (raw) => raw.socket.write(frame(whole.subarray(0, whole.length - 10))))
    expect(reason).toMatchObject({ code: 'ERR_DECODE' })
    await stillServes(a, honest)
  })

  it('a connection that ends inside a frame: ERR_DECODE', async () => {
    const { a, honest } = await target()
    const reason = await attack(a, (raw) => {
      raw.socket.write(Buffer.from([0, 0, 0, 100, 1, 2, 3]))
      raw.socket.end()
    })
    expect(reason).toMatchObject({ code: 'ERR_DECODE' })
    expect(reason?.message).toContain('ended inside a frame')
    await stillServes(a, honest)
  })

  it('random bytes: a typed reason', async () => {
    const { a, honest } = await target()
    const reason = await attack(a, (raw) => raw.socket.write(randomBytes(4096)))
    expect(['ERR_FRAME_TOO_LARGE', 'ERR_DECODE', 'ERR_SCHEMA']).toContain((reason as { code?: string }).code)
    await stillServes(a, honest)
  })

  it('a __proto__ key: ERR_SCHEMA, and no prototype is polluted', async () => {
    const { a, honest } = await target()
    // A map of 5 entries: a valid request plus a `__proto__` key holding { polluted: true }.
    const pairs: Array<[string, unknown]> = [
      ['type', 'req'],
      ['id', 1],
      ['stream', false],
      ['body', null],
      ['__proto__', { polluted: true }],
    ]
    const body = Buffer.concat([
      Buffer.from([0x85]),
      ...pairs.flatMap(([k, v]) => [loosePackr.pack(k), loosePackr.pack(v)]),
    ])
    const reason = await attack(a, (raw) => raw.socket.write(frame(body)))
    expect(reason).toMatchObject({ code: 'ERR_SCHEMA' })
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
    await stillServes(a, honest)
  })

  it('a valid frame of an unknown type: ERR_SCHEMA', async () => {
    const { a, honest } = await target()
    const reason = await attack(a, (raw) =>
      raw.socket.write(frame(loosePackr.pack({ type: 'launch', id: 1 }))),
    )
    expect(reason).toMatchObject({ code: 'ERR_SCHEMA' })
    expect(reason?.message).toContain('type')
    await stillServes(a, honest)
  })

  it('an extension type: ERR_DECODE', async () => {
    const { a, honest } = await target()
    const head = loosePackr.pack({ type: 'req', id: 1, stream: false, body: 0 })
    // fixext 1 of type 1 where the body value (0x00) was.
    const ext = Buffer.concat([head.subarray(0, head.length - 1), Buffer.from([0xd4, 0x01, 0x00])])
    const reason = await attack(a, (raw) => raw.socket.write(frame(ext)))
    expect(reason).toMatchObject({ code: 'ERR_DECODE' })
    await stillServes(a, honest)
  })

  it('a stream chunk out of order: ERR_PROTOCOL', async () => {
    const { a, honest } = await target()
    a.handle(async (req) => {
      for await (const _ of req.data ?? []) {
        // drain
      }
      return { body: null }
    })
    const reason = await attack(a, (raw) => {
      raw.send({ type: 'req', id: 1, body: null, stream: true })
      raw.send({ type: 'chunk', id: 1, seq: 1, data: Buffer.alloc(10) })
    })
    expect(reason).toMatchObject({ code: 'ERR_PROTOCOL' })
    a.handle(async (req) => ({ body: { ok: req.body } }))
    await stillServes(a, honest)
  })

  it('a sender that ignores stream credit: ERR_PROTOCOL', async () => {
    const { a, honest } = await target()
    a.handle(() => new Promise(() => {}))
    const reason = await attack(a, (raw) => {
      raw.send({ type: 'req', id: 1, body: null, stream: true })
      for (let seq = 0; seq < 6; seq++)
        raw.send({ type: 'chunk', id: 1, seq, data: Buffer.alloc(1024 * 1024) })
    })
    expect(reason).toMatchObject({ code: 'ERR_PROTOCOL' })
    a.handle(async (req) => ({ body: { ok: req.body } }))
    await stillServes(a, honest)
  })

  it('a hello announcing an address that is not host:port: ERR_SCHEMA', async () => {
    const log = captureLogger()
    const a = await transports.listening(0, { logger: log })
    const raw = await RawPeer.connect(a.listenAddr)
    raws.push(raw)
    raw.send({
      type: 'hello',
      proto: PROTOCOL,
      nodeId: RAW_NODE_ID,
      listenAddr: 'x; rm -rf /',
      sig: new Uint8Array(0),
    })
    await raw.closed
    await until(() => log.entries.some((e) => e.msg === 'connection refused'))
    expect(log.entries.find((e) => e.msg === 'connection refused')?.obj.err).toMatchObject({
      code: 'ERR_SCHEMA',
    })
    expect(a.peers()).toHaveLength(0)
  })

  it('garbage before the authenticated handshake is refused and logged', async () => {
    const log = captureLogger()
    const a = await transports.listening(0, { handshake: casHandshake, logger: log })
    const raw = await RawPeer.connect(a.listenAddr)
    raws.push(raw)
    raw.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff]))
    await raw.closed
    await until(() => log.entries.some((e) => e.msg === 'connection refused'))
    expect(log.entries.find((e) => e.msg === 'connection refused')?.obj.err).toMatchObject({
      code: 'ERR_FRAME_TOO_LARGE',
    })
    const b = await transports.listening(1, { handshake: casHandshake })
    expect((await b.dial(a.listenAddr)).nodeId).toBe(a.nodeId)
  })
})
