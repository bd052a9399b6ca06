import * as z from 'zod'
import { Count, Hex64, Millis } from './hex.js'

/** `GET /v1/snapshots`: one recorded snapshot of a folder. */
export const SnapshotInfoSchema = z.looseObject({
  /** `<device>:<counter>`. */
  id: z.string().min(1),
  root: z.string().min(1),
  at: Millis,
  /** Cid of the root tree. */
  tree: Hex64,
  files: Count,
  bytes: Count,
})
export type SnapshotInfo = z.infer<typeof SnapshotInfoSchema>
export const SnapshotListSchema = z.array(SnapshotInfoSchema)

const entryBase = { path: z.string().min(1), mtime: z.number().int().nonnegative() }
export const SnapshotEntrySchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('file'),
    ...entryBase,
    mode: z.number().int(),
    size: Count,
    cid: Hex64,
    /** false when the catalogue no longer lists the object (deleted since). */
    listed: z.boolean().optional(),
  }),
  /** `path` '.' is the folder itself. */
  z.looseObject({ type: z.literal('dir'), ...entryBase, mode: z.number().int() }),
  z.looseObject({ type: z.literal('symlink'), ...entryBase, target: z.string().min(1) }),
])
export type SnapshotEntry = z.infer<typeof SnapshotEntrySchema>

/** `GET /v1/snapshots/{id}`. */
export const SnapshotSchema = SnapshotInfoSchema.extend({ entries: z.array(SnapshotEntrySchema) })
export type Snapshot = z.infer<typeof SnapshotSchema>

/** `POST /v1/snapshots`: the snapshot, and how many trees were stored (unchanged ones are not). */
export const SnapshotPutResultSchema = SnapshotInfoSchema.extend({ stored: Count })
