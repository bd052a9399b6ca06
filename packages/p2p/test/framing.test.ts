import { describe, expect, it } from 'vitest'
import {
  checkMsgpack,
  encodeFrame,
  FrameDecoder,
  jsonCodec,
  MAX_NESTING_DEPTH,
  msgpackCodec,
  parseMessage,
} from '../src/index.js'

describe('FrameDecoder', () => {
  it('reassembles frames split at every possible byte boundary', () => {
    const frames = [
      encodeFrame(msgpackCodec, { type: 'ping', n: 1 }, 1024),
      encodeFrame(msgpackCodec, { type: 'chunk', id: 1, seq: 0, data: Buffer.alloc(100, 7) }, 1024),
    ]
    const all = Buffer.concat(frames)
    for (let cut = 0; cut <= all.length; cut++) {
      const d = new FrameDecoder(1024)
      const bodies = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))]
      expect(bodies.map((b) => parseMessage(msgpackCodec.decode(b)))).toEqual([
        { type: 'ping', n: 1 },
        { type: 'chunk', id: 1, seq: 0, data: Buffer.alloc(100, 7) },
      ])
      expect(() => d.end()).not.toThrow()
    }
  })

  it('refuses an oversize length as soon as the header is in', () => {
    const d = new FrameDecoder(1000)
    expect(d.push(Buffer.from([0, 0]))).toEqual([])
    expect(() => d.push(Buffer.from([3, 233]))).toThrow(
      expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE', size: 1001 }),
    )
  })

  it('reports a stream that ends inside a frame', () => {
    const d = new FrameDecoder(1000)
    d.push(Buffer.from([0, 0, 0, 10, 1, 2]))
    expect(() => d.end()).toThrow(expect.objectContaining({ code: 'ERR_DECODE' }))
  })

  it('refuses to send a frame over the limit', () => {
    expect(() =>
      encodeFrame(msgpackCodec, { type: 'res', id: 1, body: 'x'.repeat(2000), stream: false }, 1000),
    ).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE' }))
  })

  it('encodes chunk frames on the fast path exactly as msgpack would', () => {
    for (const [id, seq, size] of [
      [1, 0, 0],
      [127, 128, 10],
      [70_000, 2 ** 32 + 5, 300],
    ] as const) {
      const m = { type: 'chunk' as const, id, seq, data: Buffer.alloc(size, 9) }
      const body = encodeFrame(msgpackCodec, m, 4096).subarray(4)
      expect(parseMessage(msgpackCodec.decode(body))).toEqual(m)
    }
  })
})

describe('the msgpack guard', () => {
  it(`accepts nesting up to ${MAX_NESTING_DEPTH} levels and refuses deeper`, () => {
    const nest = (n: number) => Buffer.concat([Buffer.alloc(n, 0x91), Buffer.from([0xc0])])
    expect(() => checkMsgpack(nest(MAX_NESTING_DEPTH))).not.toThrow()
    expect(() => checkMsgpack(nest(MAX_NESTING_DEPTH + 1))).toThrow(
      expect.objectContaining({ code: 'ERR_DECODE' }),
    )
  })

  it('refuses a count larger than the bytes left, before anything is allocated', () => {
    expect(() => checkMsgpack(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]))).toThrow(/declared/)
  })

  it('refuses extension types, non-string map keys, and trailing bytes', () => {
    expect(() => checkMsgpack(Buffer.from([0xd4, 0x01, 0x00]))).toThrow(/not allowed/)
    expect(() => checkMsgpack(Buffer.from([0x81, 0x01, 0x02]))).toThrow(/keys/)
    expect(() => checkMsgpack(Buffer.from([0xc0, 0xc0]))).toThrow(/after/)
  })
})

describe('codecs', () => {
  it('the JSON codec round-trips binary values and refuses non-UTF-8', () => {
    const m = { type: 'req', id: 3, body: { b: Buffer.from([0, 255]), s: 'é' }, stream: false }
    expect(parseMessage(jsonCodec.decode(jsonCodec.encode(m)))).toEqual(m)
    expect(() => jsonCodec.decode(Buffer.from([0xff, 0xfe]))).toThrow(
      expect.objectContaining({ code: 'ERR_DECODE' }),
    )
  })

  it('a __proto__ key inside a JSON body is refused, not assigned', () => {
    const text = '{"type":"req","id":1,"stream":false,"body":{"__proto__":{"polluted":true}}}'
    expect(() => parseMessage(jsonCodec.decode(Buffer.from(text)))).toThrow(
      expect.objectContaining({ code: 'ERR_SCHEMA' }),
    )
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
  })

  it('decoded binary fields do not alias the socket chunk they arrived in', () => {
    const chunk = Buffer.concat([
      encodeFrame(msgpackCodec, { type: 'chunk', id: 1, seq: 0, data: Buffer.alloc(8, 1) }, 100),
      encodeFrame(msgpackCodec, { type: 'res', id: 3, body: { b: Buffer.alloc(4, 2) }, stream: false }, 100),
    ])
    const [first, second] = new FrameDecoder(100).push(chunk).map((b) => parseMessage(msgpackCodec.decode(b)))
    chunk.fill(0)
    expect(first).toMatchObject({ data: Buffer.alloc(8, 1) })
    expect(second).toMatchObject({ body: { b: Buffer.alloc(4, 2) } })
  })
})
