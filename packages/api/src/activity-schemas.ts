import * as z from 'zod'
import { Count, Hex64, Millis } from './hex.js'

/**
 * A transfer the node is doing now: an upload or download through the API, a replica sent to or
 * stored for a peer, an object fetched from holders.
 */
export const TransferSchema = z.looseObject({
  id: z.string().min(1),
  kind: z.enum(['upload', 'download', 'replica-out', 'replica-in', 'fetch']),
  state: z.enum(['active', 'done', 'failed']),
  name: z.string().optional(),
  cid: Hex64.optional(),
  /** The peer at the other end (replicas and fetches). */
  peer: Hex64.optional(),
  bytes: Count,
  /** Known for downloads and for uploads that declared their length. */
  total: Count.optional(),
  startedAt: Millis,
  /** Why it failed: an error code. */
  code: z.string().optional(),
})
export type Transfer = z.infer<typeof TransferSchema>

/** Something that happened: a transfer ended, a repair pass ran, a peer refused, came or went. */
export const ActivityEventSchema = z.looseObject({
  /** Increases by one per event since the node started. */
  seq: z.number().int().positive(),
  at: Millis,
  type: z.enum(['transfer', 'repair', 'refusal', 'integrity', 'peer']),
  message: z.string(),
  cid: Hex64.optional(),
  nodeId: Hex64.optional(),
  code: z.string().optional(),
})
export type ActivityEvent = z.infer<typeof ActivityEventSchema>

/** `GET /v1/activity`: transfers in progress and the latest events, newest last. */
export const ActivitySchema = z.looseObject({
  transfers: z.array(TransferSchema),
  recent: z.array(ActivityEventSchema),
})
export type Activity = z.infer<typeof ActivitySchema>

/**
 * `GET /v1/events` is a stream of Server-Sent Events: `transfer` (a Transfer, as it starts,
 * progresses at most a few times a second, and ends) and `activity` (an ActivityEvent), with a
 * comment line every 15 s to keep the connection up.
 */
export const EVENT_TYPES = { transfer: TransferSchema, activity: ActivityEventSchema } as const
export type EventType = keyof typeof EVENT_TYPES
