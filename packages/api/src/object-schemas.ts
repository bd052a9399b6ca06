import * as z from 'zod'
import { Count, Hex64, Millis } from './hex.js'

// Extra fields are allowed everywhere (looseObject), so that a newer node still works with an
// older client; missing or mistyped ones are an error.

/** A peer that would not take a replica: its error code and message, and when. */
export const RefusalSchema = z.looseObject({
  nodeId: Hex64,
  code: z.string(),
  message: z.string(),
  at: Millis,
})
export type Refusal = z.infer<typeof RefusalSchema>

/** `POST /v1/objects`. */
export const PutResultSchema = z.looseObject({
  cid: Hex64,
  size: Count,
  replicas: z.array(Hex64),
  wanted: Count,
  underReplicated: z.boolean(),
  refused: z.array(RefusalSchema).default([]),
})
export type PutResult = z.infer<typeof PutResultSchema>

/** One peer that should hold a replica of an object, and what is known of its copy. */
export const HolderSchema = z.looseObject({
  nodeId: Hex64,
  live: z.boolean(),
  /** When the holder last proved its replica good (a checked store, or a `has` yes). */
  provenAt: Millis.optional(),
  /** Served bytes that failed their check, and not proven good since. */
  damagedAt: Millis.optional(),
  /** Last passed audit. */
  auditedAt: Millis.optional(),
})
export type Holder = z.infer<typeof HolderSchema>

/** `GET /v1/objects`, `GET /v1/objects/{ref}/stat`. */
export const ObjectInfoSchema = z.looseObject({
  cid: Hex64,
  size: Count,
  names: z.array(z.string()),
  created: z.union([z.number(), z.string()]),
  local: z.boolean(),
  wanted: Count,
  holders: z.array(HolderSchema),
  /** Read through a capability: someone else's object. */
  shared: z.boolean(),
  refusals: z.array(RefusalSchema).default([]),
  /** Peers that held a replica and failed an audit: no longer counted, replaced by repair. */
  failedAudits: z.array(z.looseObject({ nodeId: Hex64, at: Millis, code: z.string() })).default([]),
})
export type ObjectInfo = z.infer<typeof ObjectInfoSchema>
export const ObjectListSchema = z.array(ObjectInfoSchema)

/** `DELETE /v1/objects/{ref}`. */
export const DeleteResultSchema = z.looseObject({ cid: Hex64, local: z.boolean(), peers: Count })
export type DeleteResult = z.infer<typeof DeleteResultSchema>

/** `POST /v1/objects/{ref}/share`. */
export const ShareResultSchema = z.looseObject({ cid: Hex64, capability: z.string().min(1) })
export type ShareResult = z.infer<typeof ShareResultSchema>

/** `POST /v1/objects/{ref}/rename`. */
export const RenameResultSchema = z.looseObject({ cid: Hex64, names: z.array(z.string()) })
export type RenameResult = z.infer<typeof RenameResultSchema>

/**
 * `POST /v1/objects/{ref}/download-link`: a one-time address (`/v1/downloads/{code}`) that serves
 * the object without the bearer token, for a browser's own download.
 */
export const DownloadLinkSchema = z.looseObject({ url: z.string().min(1), expiresAt: Millis })
export type DownloadLink = z.infer<typeof DownloadLinkSchema>
