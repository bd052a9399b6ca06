import * as z from 'zod'
import { SnapshotEntrySchema } from './snapshot-schemas.js'

/** Query of `POST /v1/objects`. */
export const PutQuerySchema = z.object({
  name: z.string().min(1).max(1024).optional(),
  replication: z
    .union([
      z.literal('all'),
      z
        .string()
        .regex(/^\d{1,2}$/)
        .transform(Number),
    ])
    .pipe(z.union([z.literal('all'), z.number().int().min(1).max(64)]))
    .optional(),
})

/** `POST /v1/peers`. */
export const ConnectBodySchema = z.object({ addr: z.string().regex(/^.{1,255}:\d{1,5}$/) })

/** `POST /v1/objects/{ref}/rename`. */
export const RenameBodySchema = z.object({ name: z.string().min(1).max(4096) })

/** Most entries one snapshot lists (a snapshot body is at most 64 MiB of JSON). */
export const MAX_SNAPSHOT_ENTRIES = 1_000_000

/** `POST /v1/snapshots`. */
export const SnapshotBodySchema = z.object({
  root: z.string().min(1).max(4096),
  entries: z.array(SnapshotEntrySchema).max(MAX_SNAPSHOT_ENTRIES),
})

/** `POST /v1/ui/session`. */
export const UiSessionBodySchema = z.object({ code: z.string().min(1).max(128) })
