import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import type { OwnerKey, OwnerSecrets } from '@cas/crypto'
import { sign } from '@cas/crypto'
import * as z from 'zod'
import { ID_PATTERN } from './ids.js'
import { actionPayload, verifyAction } from './signatures.js'

/**
 * A device's head: the list of the segments (ordinary objects) that hold its catalogue ops, sealed
 * for the owner, signed by the owner key, with a sequence number that only grows. Peers hold the
 * heads of the owners ranked to them and hand them back to any node of that owner; they see an
 * opaque head id per device, a size and a time, and nothing of the list.
 */

/**
 * Most bytes of a sealed segment list (about 240 segments): the most heads a holder keeps for one
 * owner all fit in one answer frame. A device compacts its segments into one long before.
 */
export const MAX_HEAD_BOX_BYTES = 16 * 1024
/** Most heads a holder keeps for one owner (one per device; old devices stay until replaced). */
export const MAX_HEADS_PER_OWNER = 32

const HEAD_KEY_LABEL = 'cas/catalogue-head-key/1'
const HEAD_ID_LABEL = 'cas/catalogue-head/'
const IV_BYTES = 12
const TAG_BYTES = 16

/** What a holder stores and serves: everything it needs to check the owner signed it. */
export interface SignedHead {
  ownerId: string
  headId: string
  seq: number
  box: Uint8Array
  ownerPub: Uint8Array
  sig: Uint8Array
}

/** What the owner reads out of a head's box. */
export const headContentSchema = z.object({
  v: z.literal(1),
  device: z.string().regex(/^[0-9a-f]{16}$/),
  segments: z.array(z.string().regex(ID_PATTERN)).max(2_048),
})
export type HeadContent = z.infer<typeof headContentSchema>

/** The opaque id of a device's head: peers cannot link it to the device's node id. */
export function headIdOf(secrets: OwnerSecrets, device: string): string {
  return createHmac('sha256', secrets.locKey).update(`${HEAD_ID_LABEL}${device}`).digest('hex')
}

function headKey(secrets: OwnerSecrets): Buffer {
  return Buffer.from(hkdfSync('sha256', secrets.encKey, Buffer.alloc(0), HEAD_KEY_LABEL, 32))
}

/** What the box's cipher binds it to, so that a box cannot be moved to another head or sequence number. */
function boundFields(ownerId: string, headId: string, seq: number): Buffer {
  return Buffer.from(`${ownerId}/${headId}/${seq}`)
}

function digestOf(box: Uint8Array): string {
  return createHash('sha256').update(box).digest('hex')
}

/** Seals and signs a head; the head id and sequence number are bound into the cipher and the signature. */
export function makeHead(
  key: OwnerKey,
  secrets: OwnerSecrets,
  content: HeadContent,
  seq: number,
): SignedHead {
  const headId = headIdOf(secrets, content.device)
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', headKey(secrets), iv)
  cipher.setAAD(boundFields(key.ownerId, headId, seq))
  const body = Buffer.concat([cipher.update(JSON.stringify(content)), cipher.final(), cipher.getAuthTag()])
  const box = new Uint8Array(Buffer.concat([iv, body]))
  const fields = { ownerId: key.ownerId, locator: headId, issuedAt: seq, digest: digestOf(box) }
  return {
    ownerId: key.ownerId,
    headId,
    seq,
    box,
    ownerPub: key.publicKeyDer,
    sig: sign(key, actionPayload('head', fields)),
  }
}

/** Throws UnauthorizedError unless the owner of `head.ownerId` signed exactly this head. */
export function verifyHead(head: SignedHead): void {
  verifyAction('head', {
    ownerId: head.ownerId,
    locator: head.headId,
    issuedAt: head.seq,
    digest: digestOf(head.box),
    ownerPub: head.ownerPub,
    sig: head.sig,
  })
}

/** Opens a head of this owner; undefined when it does not open (another owner's, or altered). */
export function openHead(secrets: OwnerSecrets, head: SignedHead): HeadContent | undefined {
  const box = Buffer.from(head.box)
  if (box.length < IV_BYTES + TAG_BYTES) return undefined
  try {
    const decipher = createDecipheriv('aes-256-gcm', headKey(secrets), box.subarray(0, IV_BYTES))
    decipher.setAAD(boundFields(head.ownerId, head.headId, head.seq))
    decipher.setAuthTag(box.subarray(box.length - TAG_BYTES))
    const plain = Buffer.concat([
      decipher.update(box.subarray(IV_BYTES, box.length - TAG_BYTES)),
      decipher.final(),
    ])
    const content = headContentSchema.safeParse(JSON.parse(plain.toString('utf8')))
    if (!content.success || headIdOf(secrets, content.data.device) !== head.headId) return undefined
    return content.data
  } catch {
    return undefined
  }
}
