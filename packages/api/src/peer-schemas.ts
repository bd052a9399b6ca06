import * as z from 'zod'
import { Count, Hex64, Millis } from './hex.js'

/** Objects and their bytes. */
export const UsageSchema = z.looseObject({ objects: Count, bytes: Count })

/** `GET /v1/peers`, `POST /v1/peers`: one peer this node knows or is connected to. */
export const PeerInfoSchema = z.looseObject({
  nodeId: Hex64,
  addr: z.string().optional(),
  connected: z.boolean(),
  ownerId: Hex64.optional(),
  /** Since when the current connection is up. */
  connectedAt: Millis.optional(),
  /** Bytes received from and sent to it over every connection since this node started. */
  bytesIn: Count.default(0),
  bytesOut: Count.default(0),
  /** Replicas of this owner's objects that the catalogue counts on it holding (live). */
  holds: UsageSchema.default({ objects: 0, bytes: 0 }),
  /** Replicas this node holds for the peer's owner. */
  heldForIt: UsageSchema.default({ objects: 0, bytes: 0 }),
})
export type PeerInfo = z.infer<typeof PeerInfoSchema>
export const PeerListSchema = z.array(PeerInfoSchema)
