import { afterEach, describe, expect, it } from 'vitest'
import { casHandshake, jsonCodec, type TcpTransport } from '../src/index.js'
import { digest, ownerSigner, patternStream, Transports, until } from './helpers.js'

const transports = new Transports()
afterEach(() => transports.closeAll())

describe.each([
  ['plain TCP', false],
  ['TLS', true],
])('five authenticated transports over %s', (_name, tls) => {
  it('form a full mesh, even when every node dials every other at once, and all answer each other', async () => {
    const nodes: TcpTransport[] = []
    for (let i = 0; i < 5; i++) {
      const t = await transports.listening(i, { tls, handshake: casHandshake, owner: ownerSigner() })
      t.handle(async (req) => ({
        body: { me: t.nodeId, you: req.peer.nodeId, echo: req.body },
        data: patternStream(256 * 1024, i),
      }))
      nodes.push(t)
    }
    await Promise.all(nodes.flatMap((a) => nodes.filter((b) => b !== a).map((b) => a.dial(b.listenAddr))))
    await until(() => nodes.every((t) => t.peers().length === 4), 10_000, 'four peers each')

    const answers = await Promise.all(
      nodes.flatMap((a) =>
        nodes
          .filter((b) => b !== a)
          .map(async (b) => {
            const res = await a.peer(b.nodeId)!.request({ n: nodes.indexOf(b) })
            return { res: res.body, data: await digest(res.data!), a, b }
          }),
      ),
    )
    expect(answers).toHaveLength(20)
    for (const { res, data, a, b } of answers) {
      expect(res).toEqual({ me: b.nodeId, you: a.nodeId, echo: { n: nodes.indexOf(b) } })
      expect(data).toEqual(await digest(patternStream(256 * 1024, nodes.indexOf(b))))
    }
    for (const t of nodes) {
      for (const p of t.peers()) expect(p.ownerPub).toBeDefined()
    }
  })
})

describe('the JSON codec', () => {
  it('carries the same requests and streams as msgpack', async () => {
    const a = await transports.listening(0, { codec: jsonCodec, handshake: casHandshake })
    const b = await transports.listening(1, { codec: jsonCodec, handshake: casHandshake })
    b.handle(async (req) => ({ body: { got: req.body }, data: patternStream(3 * 1024 * 1024, 9) }))
    const peer = await a.dial(b.listenAddr)
    const res = await peer.request({ bin: Buffer.from('hi'), list: [1, 'two', null] })
    expect(res.body).toEqual({ got: { bin: Buffer.from('hi'), list: [1, 'two', null] } })
    expect(await digest(res.data!)).toEqual(await digest(patternStream(3 * 1024 * 1024, 9)))
  })
})
