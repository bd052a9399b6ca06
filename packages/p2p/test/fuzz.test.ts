import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Codec,
  encodeFrame,
  FrameDecoder,
  jsonCodec,
  msgpackCodec,
  type OutgoingMessage,
  P2pError,
  parseMessage,
} from '../src/index.js'

const MAX_FRAME = 64 * 1024
const TYPED = new Set(['ERR_FRAME_TOO_LARGE', 'ERR_DECODE', 'ERR_SCHEMA'])

const samples: OutgoingMessage[] = [
  {
    type: 'hello',
    proto: 'cas/1',
    nodeId: 'a'.repeat(64),
    sig: Buffer.alloc(64, 1),
    listenAddr: '127.0.0.1:1',
  },
  { type: 'challenge', nonce: Buffer.alloc(32, 2) },
  { type: 'ready' },
  { type: 'ping', n: 7 },
  { type: 'req', id: 1, body: { op: 'get', key: 'k', list: [1, 2, { deep: [true, null] }] }, stream: true },
  { type: 'res', id: 2, body: 'ok', stream: false },
  { type: 'chunk', id: 3, seq: 0, data: Buffer.alloc(300, 3) },
  { type: 'end', id: 3 },
  { type: 'error', id: 4, code: 'ERR_X', message: 'bad' },
  { type: 'cancel', id: 5 },
  { type: 'credit', id: 5, n: 1024 },
]

/** Feeds bytes through framing, decoding and the schema as a connection would; returns frames seen. */
function feed(codec: Codec, bytes: Uint8Array, cuts: number[]): number {
  const decoder = new FrameDecoder(MAX_FRAME)
  let frames = 0
  let at = 0
  try {
    for (const cut of [...cuts.map((c) => c % (bytes.length + 1)).sort((x, y) => x - y), bytes.length]) {
      for (const body of decoder.push(bytes.subarray(at, Math.max(at, cut)))) {
        parseMessage(codec.decode(body))
        frames++
      }
      at = Math.max(at, cut)
    }
  } catch (err) {
    // Anything the wire can do must end in one of the typed reasons, never a crash.
    if (!(err instanceof P2pError) || !TYPED.has(err.code)) throw err
  }
  return frames
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
)

function lengthPrefix(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never

function mutate(frame: Buffer, ms: Mutation[]): Buffer {
  let out = Buffer.from(frame)
  for (const m of ms) {
    const at = m.at % (out.length + 1)
    if (m.kind === 'flip' && at < out.length) out[at] = out[at]! ^ m.bits
    else if (m.kind === 'cut') out = out.subarray(0, at)
    else if (m.kind === 'insert') out = Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)])
  }
  return out
}

describe('the frame decoder under fuzzing', () => {
  it('survives 50,000 random byte strings with only typed errors and flat memory', {
    timeout: 120_000,
  }, () => {
    const before = process.memoryUsage().heapUsed
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 4 }),
        (bytes, framed, cuts) => {
          // Half get an honest length prefix, so that random bodies reach the decoder and the schema.
          const input = framed ? Buffer.concat([lengthPrefix(bytes.length), bytes]) : bytes
          feed(msgpackCodec, input, cuts)
        },
      ),
      { numRuns: 50_000 },
    )
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(256 * 1024 * 1024)
  })

  it('survives 50,000 mutated valid frames with only typed errors and flat memory', {
    timeout: 120_000,
  }, () => {
    const valid = samples.map((m) => encodeFrame(msgpackCodec, m, MAX_FRAME))
    const before = process.memoryUsage().heapUsed
    fc.assert(
      fc.property(
        fc.nat({ max: valid.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        (which, ms, cuts) => {
          feed(msgpackCodec, mutate(valid[which]!, ms), cuts)
        },
      ),
      { numRuns: 50_000 },
    )
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(256 * 1024 * 1024)
  })

  it('survives 5,000 mutated JSON-codec frames with only typed errors', { timeout: 60_000 }, () => {
    const valid = samples.map((m) => encodeFrame(jsonCodec, m, MAX_FRAME))
    fc.assert(
      fc.property(
        fc.nat({ max: valid.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (which, ms) => {
          feed(jsonCodec, mutate(valid[which]!, ms), [])
        },
      ),
      { numRuns: 5_000 },
    )
  })

  it('decodes every valid frame back to its message, however the bytes are cut', () => {
    const all = Buffer.concat(samples.map((m) => encodeFrame(msgpackCodec, m, MAX_FRAME)))
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 8 }), (cuts) => {
        expect(feed(msgpackCodec, all, cuts)).toBe(samples.length)
      }),
      { numRuns: 500 },
    )
  })
})
