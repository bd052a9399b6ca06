import * as z from 'zod'
import { MAX_HEAD_BOX_BYTES, MAX_HEADS_PER_OWNER } from '../catalogue-head.js'
import { ID_PATTERN } from '../ids.js'

/** Most peer records one gossip message may carry. */
export const MAX_GOSSIP_RECORDS = 32
/** Most chunks one `fetch` request may ask for: bounds what a holder reads for one request. */
export const MAX_FETCH_CHUNKS = 64
/** Most replicas one `store-small` request may carry, and their most bytes in all (it is one frame). */
export const MAX_SMALL_REPLICAS = 64
export const MAX_SMALL_BATCH_BYTES = 768 * 1024
/** Largest replica sent whole in a `store-small` (its one chunk of ciphertext), and largest commit with it. */
export const MAX_SMALL_REPLICA_BYTES = 64 * 1024
export const MAX_SMALL_COMMIT_BYTES = 8 * 1024
/** Most locators one `has` request may ask about. */
export const MAX_HAS_LOCATORS = 256

const id = z.string().regex(ID_PATTERN)
const bytes = (max: number) =>
  z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.byteLength <= max, `bytes, at most ${max}`)
const timestamp = z.number().int().nonnegative()

/** A node's signed statement of where it listens; newer `seq` wins. */
export const peerRecordSchema = z.object({
  nodeId: id,
  addrs: z.array(z.string().max(262).regex(/^\S+$/, 'no spaces or line breaks')).min(1).max(8),
  seq: timestamp,
  /** The node's certificate public key (SPKI DER); its SHA-256 is the node id. */
  nodePub: bytes(512),
  sig: bytes(512),
})
export type PeerRecord = z.infer<typeof peerRecordSchema>

/** An owner-signed catalogue head, as sent to holders and served back (see catalogue-head.ts). */
const signedHeadFields = {
  ownerId: id,
  headId: id,
  seq: timestamp,
  box: bytes(MAX_HEAD_BOX_BYTES),
  ownerPub: bytes(512),
  sig: bytes(512),
}
export const signedHeadSchema = z.object(signedHeadFields)

/** Requests between FileServers, carried as the opaque `body` of a p2p request. */
export const requestSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('store'),
    /** Object format: the replica follows as records, ending with the owner's signed commit. */
    v: z.literal(2),
    ownerId: id,
  }),
  z.object({
    op: z.literal('store-small'),
    /** Replicas of one chunk each, sent whole: the chunk's ciphertext and the owner's signed commit. */
    v: z.literal(2),
    ownerId: id,
    replicas: z
      .array(z.object({ chunk: bytes(MAX_SMALL_REPLICA_BYTES), commit: bytes(MAX_SMALL_COMMIT_BYTES) }))
      .min(1)
      .max(MAX_SMALL_REPLICAS),
  }),
  z.object({
    op: z.literal('fetch'),
    v: z.literal(2),
    ownerId: id,
    locator: id,
    /** 'commit': the replica's signed commit; 'chunks': the ciphertext of chunks first..first+count-1. */
    part: z.enum(['commit', 'chunks']),
    first: z.number().int().nonnegative().optional(),
    count: z.number().int().positive().max(MAX_FETCH_CHUNKS).optional(),
  }),
  z.object({ op: z.literal('has'), ownerId: id, locators: z.array(id).max(MAX_HAS_LOCATORS) }),
  z.object({
    op: z.literal('delete'),
    ownerId: id,
    locator: id,
    issuedAt: timestamp,
    ownerPub: bytes(512),
    sig: bytes(512),
  }),
  z.object({ op: z.literal('gossip'), records: z.array(peerRecordSchema).max(MAX_GOSSIP_RECORDS) }),
  /** Hold this owner-signed catalogue head (replacing an older one of the same head id). */
  z.object({ op: z.literal('head'), ...signedHeadFields }),
  /** The catalogue heads held for this owner. */
  z.object({ op: z.literal('heads'), ownerId: id }),
])
export type Request = z.infer<typeof requestSchema>
export type StoreRequest = Extract<Request, { op: 'store' }>
export type StoreSmallRequest = Extract<Request, { op: 'store-small' }>
export type FetchRequest = Extract<Request, { op: 'fetch' }>
export type HasRequest = Extract<Request, { op: 'has' }>
export type DeleteRequest = Extract<Request, { op: 'delete' }>
export type GossipRequest = Extract<Request, { op: 'gossip' }>
export type HeadRequest = Extract<Request, { op: 'head' }>
export type HeadsRequest = Extract<Request, { op: 'heads' }>

export const storeResponseSchema = z.object({ stored: z.literal(true), size: z.number().int().nonnegative() })
/**
 * One answer per replica of a `store-small`, in order: stored, or refused with an error code. A refusal
 * is bounded as @cas/p2p's `forPeer` bounds it (and its error frames accept): 64 and 1,024 characters.
 */
export const storeSmallResponseSchema = z.object({
  results: z
    .array(
      z.union([
        z.object({ stored: z.literal(true), size: z.number().int().nonnegative() }),
        z.object({ code: z.string().max(64), message: z.string().max(1024) }),
      ]),
    )
    .max(MAX_SMALL_REPLICAS),
})
export const fetchResponseSchema = z.object({ size: z.number().int().nonnegative() })
export const hasResponseSchema = z.object({ present: z.array(z.boolean()).max(MAX_HAS_LOCATORS) })
export const deleteResponseSchema = z.object({ deleted: z.boolean() })
export const gossipResponseSchema = z.object({ records: z.array(peerRecordSchema).max(MAX_GOSSIP_RECORDS) })
export const headResponseSchema = z.object({ stored: z.boolean() })
export const headsResponseSchema = z.object({ heads: z.array(signedHeadSchema).max(MAX_HEADS_PER_OWNER) })
