import { describe, expect, it } from 'vitest'
import { msgpackCodec } from '../src/codec.js'
import { messageSchema, parseMessage, parseTransferFrame } from '../src/messages.js'
import { MAX_BODY_DEPTH } from '../src/plain-data.js'

const bytes = new Uint8Array([1, 2, 3])
let deep: unknown = 'leaf'
for (let i = 0; i <= MAX_BODY_DEPTH + 1; i++) deep = [deep]

const valid: Record<string, unknown>[] = [
  { type: 'chunk', id: 1, seq: 0, data: bytes },
  { type: 'chunk', id: Number.MAX_SAFE_INTEGER, seq: 7, data: new Uint8Array(0) },
  { type: 'end', id: 3 },
  { type: 'credit', id: 4, n: 1 },
  { type: 'credit', id: 4, n: 2 ** 32 },
  {
    type: 'req',
    id: 5,
    stream: true,
    body: { op: 'store', v: 2, ownerId: 'ab', list: [1, 'x', null, true, bytes] },
  },
  { type: 'res', id: 6, stream: false, body: null },
  { type: 'res', id: 6, stream: false, body: 'text' },
]

const invalid: unknown[] = [
  null,
  'chunk',
  [1, 2],
  { type: 'chunk', id: 1, seq: 0 },
  { type: 'chunk', id: 1, seq: 0, data: bytes, extra: 1 },
  { type: 'chunk', id: 0, seq: 0, data: bytes },
  { type: 'chunk', id: -1, seq: 0, data: bytes },
  { type: 'chunk', id: 1.5, seq: 0, data: bytes },
  { type: 'chunk', id: 2 ** 53, seq: 0, data: bytes },
  { type: 'chunk', id: Number.NaN, seq: 0, data: bytes },
  { type: 'chunk', id: '1', seq: 0, data: bytes },
  { type: 'chunk', id: 1, seq: -1, data: bytes },
  { type: 'chunk', id: 1, seq: 0, data: 'bytes' },
  { type: 'chunk', id: 1, seq: 0, data: [1, 2] },
  { type: 'end' },
  { type: 'end', id: 1, more: true },
  { type: 'credit', id: 1, n: 0 },
  { type: 'credit', id: 1, n: 2 ** 32 + 1 },
  { type: 'credit', id: 1, n: 1.5 },
  { type: 'req', id: 1, stream: 'yes', body: null },
  { type: 'req', id: 1, stream: true },
  { type: 'req', id: 1, stream: true, body: null, x: 1 },
  { type: 'req', id: 1, stream: true, body: { f: () => 1 } },
  { type: 'req', id: 1, stream: true, body: new Map() },
  { type: 'req', id: 1, stream: true, body: { n: Number.POSITIVE_INFINITY } },
  { type: 'req', id: 1, stream: true, body: deep },
  { type: 'res', id: 0, stream: false, body: null },
  { type: 'nope', id: 1 },
  Object.assign(Object.create(null), { type: 'end', id: 1 }),
]

describe('transfer frames checked by hand', () => {
  it('accept every valid transfer frame as the schema does, and give the same value', () => {
    for (const frame of valid) {
      const schema = messageSchema.safeParse(frame)
      expect(schema.success).toBe(true)
      const fast = parseTransferFrame(frame)
      expect(fast).toBeDefined()
      expect(fast).toEqual(schema.data)
    }
  })

  it('take the frames as msgpack decodes them from the wire', () => {
    for (const frame of valid) {
      const decoded = msgpackCodec.decode(msgpackCodec.encode(frame))
      expect(parseTransferFrame(decoded)).toEqual(messageSchema.parse(decoded))
    }
  })

  it('leave every frame the schema refuses to the schema, which names the problem', () => {
    for (const frame of invalid) {
      const schema = messageSchema.safeParse(frame)
      if (schema.success) {
        // a frame only the schema accepts (a null-prototype object): the hand check leaves it to the schema
        expect(parseTransferFrame(frame)).toBeUndefined()
        continue
      }
      expect(parseTransferFrame(frame)).toBeUndefined()
      expect(() => parseMessage(frame)).toThrow(/invalid frame/)
    }
  })

  it('copies the bytes of a body, so nothing kept is a view into the frame', () => {
    const frame = { type: 'req', id: 1, stream: false, body: { data: bytes } }
    const parsed = parseTransferFrame(frame) as { body: { data: Uint8Array } }
    expect(Buffer.from(parsed.body.data).equals(bytes)).toBe(true)
    expect(parsed.body.data.buffer).not.toBe(bytes.buffer)
  })
})
