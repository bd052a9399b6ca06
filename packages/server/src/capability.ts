import * as z from 'zod'
import { InvalidCapabilityError } from './errors.js'
import { ID_PATTERN } from './ids.js'

/** Prefix of a capability string; the rest is base64url JSON. */
export const CAPABILITY_PREFIX = 'cas-cap2:'

export interface Capability {
  cid: string
  ownerId: string
  locator: string
  /** The object key of one upload: it opens that upload only, not a later re-upload of the same bytes. */
  objectKey: Uint8Array
  size: number
}

const hexKey = z.string().regex(/^[0-9a-f]{64}$/)
const wireSchema = z.object({
  c: z.string().regex(ID_PATTERN),
  o: z.string().regex(ID_PATTERN),
  l: z.string().regex(ID_PATTERN),
  k: hexKey,
  s: z.number().int().nonnegative(),
})

export function isCapability(ref: string): boolean {
  return ref.startsWith(CAPABILITY_PREFIX)
}

export function encodeCapability(cap: Capability): string {
  const wire = {
    c: cap.cid,
    o: cap.ownerId,
    l: cap.locator,
    k: Buffer.from(cap.objectKey).toString('hex'),
    s: cap.size,
  }
  return CAPABILITY_PREFIX + Buffer.from(JSON.stringify(wire)).toString('base64url')
}

export function decodeCapability(text: string): Capability {
  if (!isCapability(text)) throw new InvalidCapabilityError(`it does not start with ${CAPABILITY_PREFIX}`)
  const body = text.slice(CAPABILITY_PREFIX.length)
  if (body.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(body)) throw new InvalidCapabilityError('bad encoding')
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidCapabilityError('not JSON')
  }
  const parsed = wireSchema.safeParse(json)
  if (!parsed.success) throw new InvalidCapabilityError(parsed.error.issues[0]?.message ?? 'schema')
  const w = parsed.data
  return {
    cid: w.c,
    ownerId: w.o,
    locator: w.l,
    objectKey: Buffer.from(w.k, 'hex'),
    size: w.s,
  }
}
