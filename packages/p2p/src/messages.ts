import * as z from 'zod'
import { ADDRESS_PATTERN } from './address.js'
import { SchemaError } from './errors.js'
import { copyPlainData } from './plain-data.js'

/** The protocol version spoken in `hello`. */
export const PROTOCOL = 'cas/1'

const nodeId = z.string().regex(/^[0-9a-f]{64}$/, 'a nodeId is 64 lowercase hex digits')
const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER)
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
// Binary fields stay views into their frame body, which FrameDecoder allocates for
// that frame alone: nothing kept can alias a socket buffer or another frame.
const bin = (max: number) =>
  z
    .custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected bytes')
    .refine((b) => b.length <= max, `at most ${max} bytes`)
const body = z.unknown().transform((value, ctx) => {
  const r = copyPlainData(value)
  if (r.ok) return r.value
  ctx.addIssue({ code: 'custom', message: r.problem })
  return z.NEVER
})

export const helloSchema = z.strictObject({
  type: z.literal('hello'),
  proto: z.string().max(32),
  nodeId,
  listenAddr: z.string().max(300).regex(ADDRESS_PATTERN, 'listenAddr must be host:port').optional(),
  ownerPub: bin(256).optional(),
  nodePub: bin(256).optional(),
  sig: bin(256),
  nodeSig: bin(256).optional(),
  netProof: bin(64).optional(),
})

export const messageSchema = z.discriminatedUnion('type', [
  helloSchema,
  z.strictObject({ type: z.literal('challenge'), nonce: bin(64) }),
  /** Proof of a private network's key, exchanged before any hello (see cas-handshake.ts). */
  z.strictObject({ type: z.literal('network'), proof: bin(64) }),
  z.strictObject({ type: z.literal('ready') }),
  z.strictObject({ type: z.literal('ping'), n: count }),
  z.strictObject({ type: z.literal('pong'), n: count }),
  z.strictObject({ type: z.literal('req'), id, body, stream: z.boolean() }),
  z.strictObject({ type: z.literal('res'), id, body, stream: z.boolean() }),
  z.strictObject({ type: z.literal('chunk'), id, seq: count, data: bin(Number.MAX_SAFE_INTEGER) }),
  z.strictObject({ type: z.literal('end'), id }),
  z.strictObject({
    type: z.literal('error'),
    id: count,
    code: z.string().max(64),
    message: z.string().max(1024),
  }),
  z.strictObject({ type: z.literal('cancel'), id }),
  z.strictObject({
    type: z.literal('credit'),
    id,
    n: z
      .number()
      .int()
      .positive()
      .max(2 ** 32),
  }),
])

/** A frame as received: validated, binary fields copied. */
export type Message = z.output<typeof messageSchema>
/** A frame as sent. */
export type OutgoingMessage = z.input<typeof messageSchema>
export type Hello = z.output<typeof helloSchema>
export type OutgoingHello = z.input<typeof helloSchema>
export type MessageOf<T extends Message['type']> = Extract<Message, { type: T }>

/** Validates one decoded frame; throws SchemaError naming the first problem. */
export function parseMessage(decoded: unknown): Message {
  const fast = parseTransferFrame(decoded)
  if (fast) return fast
  const r = messageSchema.safeParse(decoded)
  if (r.success) return r.data
  const issue = r.error.issues[0]
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : ''
  throw new SchemaError(`invalid frame${where}: ${issue?.message ?? 'unknown problem'}`)
}

/**
 * The frames that carry requests and their data (req, res, chunk, end, credit), checked by hand
 * against the same rules as `messageSchema`: a transfer is made of thousands of them and the
 * schema's parse cost more than the rest of a frame's handling. Anything it does not accept as
 * it stands (another type, a missing or extra field, a bad value) is left to the schema, which
 * decides and names the problem; a test holds the two to the same answers.
 * @internal exported for that test.
 */
export function parseTransferFrame(decoded: unknown): Message | undefined {
  if (
    typeof decoded !== 'object' ||
    decoded === null ||
    Object.getPrototypeOf(decoded) !== Object.prototype
  ) {
    return undefined
  }
  const m = decoded as Record<string, unknown>
  const keys = Object.keys(m).length
  switch (m.type) {
    case 'chunk':
      if (keys === 4 && isId(m.id) && isCount(m.seq) && m.data instanceof Uint8Array) {
        return { type: 'chunk', id: m.id, seq: m.seq, data: m.data }
      }
      return undefined
    case 'end':
      return keys === 2 && isId(m.id) ? { type: 'end', id: m.id } : undefined
    case 'credit':
      if (
        keys === 3 &&
        isId(m.id) &&
        Number.isInteger(m.n) &&
        (m.n as number) > 0 &&
        (m.n as number) <= 2 ** 32
      ) {
        return { type: 'credit', id: m.id, n: m.n as number }
      }
      return undefined
    case 'req':
    case 'res': {
      if (keys !== 4 || !isId(m.id) || typeof m.stream !== 'boolean' || !('body' in m)) return undefined
      const body = copyPlainData(m.body)
      if (!body.ok) return undefined
      return { type: m.type, id: m.id, body: body.value, stream: m.stream }
    }
    default:
      return undefined
  }
}

function isId(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) > 0
}

function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0
}
