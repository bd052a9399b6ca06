import * as z from 'zod'
import { Count, Hex64, Millis } from './hex.js'

export const RepairSchema = z.looseObject({
  healthy: Count,
  underReplicated: Count,
  repairing: Count,
  lastRun: Millis.optional(),
  /** While a pass runs: objects checked so far, of those it will check. */
  pass: z.object({ checked: Count, total: Count }).optional(),
})
export type Repair = z.infer<typeof RepairSchema>

/** `GET /v1/status`. */
export const StatusSchema = z.looseObject({
  nodeId: Hex64,
  ownerId: Hex64,
  listenAddr: z.string(),
  /** Peers: known and connected; members: those placement ranks (connected, or reachable on demand). */
  peers: z.looseObject({ known: Count, connected: Count, members: Count.optional() }),
  /** The owner's objects in the catalogue and their size. */
  objects: Count,
  bytes: Count,
  /** Replicas held here for owners (this one included). */
  held: z.looseObject({ owners: Count, objects: Count, bytes: Count }).optional(),
  repair: RepairSchema,
  audits: z
    .looseObject({ passed: Count, failed: Count, inconclusive: Count, bytes: Count, rounds: Count })
    .optional(),
  /** The file system of the node's home: bytes free for this user, and its size. */
  disk: z.looseObject({ free: Count, total: Count }).optional(),
  version: z.string(),
  pid: z.number().int(),
  api: z.string().optional(),
  startedAt: z.string().optional(),
  uptimeSeconds: z.number().nonnegative(),
})
export type Status = z.infer<typeof StatusSchema>

/** `POST /v1/repair`. */
export const RepairResultSchema = RepairSchema

/** `POST /v1/stop`: the node has begun a graceful stop. */
export const StopResultSchema = z.looseObject({ stopping: z.literal(true), pid: z.number().int() })

/** `POST /v1/verify`. */
export const VerifyResultSchema = z.looseObject({
  checked: Count,
  damaged: z.array(Hex64),
  held: z.looseObject({ checked: Count, removed: Count }).optional(),
})
export type VerifyResult = z.infer<typeof VerifyResultSchema>

/** `POST /v1/catalogue/sync`. */
export const CatalogueSyncSchema = z.looseObject({
  peers: Count,
  devices: Count,
  segments: Count,
  ops: Count,
  objects: Count,
  missing: Count,
})
export type CatalogueSyncResult = z.infer<typeof CatalogueSyncSchema>

/** One interval of the node's traffic, in bytes. */
export const TrafficSampleSchema = z.looseObject({
  /** End of the interval. */
  at: Millis,
  p2pIn: Count,
  p2pOut: Count,
  apiIn: Count,
  apiOut: Count,
})
export type TrafficSample = z.infer<typeof TrafficSampleSchema>

/** `GET /v1/traffic`: bytes moved per interval over the last minutes, oldest first. */
export const TrafficSchema = z.looseObject({
  intervalMs: z.number().int().positive(),
  samples: z.array(TrafficSampleSchema),
})
export type Traffic = z.infer<typeof TrafficSchema>
