import { z } from 'zod'

// What the node's HTTP API answers (docs/http-api.md). Extra fields are allowed so that a newer
// node still works with this CLI; missing or mistyped ones are an error.

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/)

/** A peer that would not take a replica: its error code and message, and when (ms since 1970). */
export const RefusalSchema = z.looseObject({
  nodeId: Hex64,
  code: z.string(),
  message: z.string(),
  at: z.number(),
})

export const PutResultSchema = z.looseObject({
  cid: Hex64,
  size: z.number().int().nonnegative(),
  replicas: z.array(Hex64),
  wanted: z.number().int().nonnegative(),
  underReplicated: z.boolean(),
  refused: z.array(RefusalSchema).default([]),
})

export const HolderSchema = z.looseObject({
  nodeId: Hex64,
  live: z.boolean(),
  /** When the holder last proved its replica good (ms since 1970). */
  provenAt: z.number().optional(),
  damagedAt: z.number().optional(),
  auditedAt: z.number().optional(),
})

export const ObjectInfoSchema = z.looseObject({
  cid: Hex64,
  size: z.number().int().nonnegative(),
  names: z.array(z.string()),
  created: z.union([z.number(), z.string()]),
  local: z.boolean(),
  wanted: z.number().int().nonnegative(),
  holders: z.array(HolderSchema),
  shared: z.boolean(),
  refusals: z.array(RefusalSchema).default([]),
  /** Peers that held a replica and failed an audit: no longer counted, replaced by repair. */
  failedAudits: z.array(z.looseObject({ nodeId: Hex64, at: z.number(), code: z.string() })).default([]),
})
export const ObjectListSchema = z.array(ObjectInfoSchema)

export const DeleteResultSchema = z.looseObject({
  cid: Hex64,
  local: z.boolean(),
  peers: z.number().int().nonnegative(),
})

export const ShareResultSchema = z.looseObject({ cid: Hex64, capability: z.string().min(1) })

export const PeerInfoSchema = z.looseObject({
  nodeId: Hex64,
  addr: z.string().optional(),
  connected: z.boolean(),
  ownerId: Hex64.optional(),
})
export const PeerListSchema = z.array(PeerInfoSchema)

export const RepairSchema = z.looseObject({
  healthy: z.number().int().nonnegative(),
  underReplicated: z.number().int().nonnegative(),
  repairing: z.number().int().nonnegative(),
  /** While a pass runs: objects checked so far, of those it will check. */
  pass: z
    .object({ checked: z.number().int().nonnegative(), total: z.number().int().nonnegative() })
    .optional(),
})

/** `POST /v1/stop`: the node has begun a graceful stop. */
export const StopResultSchema = z.object({ stopping: z.literal(true), pid: z.number().int() })

export const StatusSchema = z.looseObject({
  nodeId: Hex64,
  ownerId: Hex64,
  listenAddr: z.string(),
  peers: z.looseObject({ known: z.number().int().nonnegative(), connected: z.number().int().nonnegative() }),
  objects: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  repair: RepairSchema,
  version: z.string(),
  pid: z.number().int(),
  uptimeSeconds: z.number(),
})

export const RenameResultSchema = z.object({ cid: Hex64, names: z.array(z.string()) })

export const CatalogueSyncSchema = z.looseObject({
  peers: z.number().int().nonnegative(),
  devices: z.number().int().nonnegative(),
  segments: z.number().int().nonnegative(),
  ops: z.number().int().nonnegative(),
  objects: z.number().int().nonnegative(),
  missing: z.number().int().nonnegative(),
})

export const VerifyResultSchema = z.looseObject({
  checked: z.number().int().nonnegative(),
  damaged: z.array(Hex64),
})

/** Every --json output of the CLI, by command (tests check the output against these). */
export const GetResultSchema = z.object({
  cid: Hex64,
  size: z.number().int().nonnegative(),
  path: z.string(),
})
export const InitResultSchema = z.object({
  home: z.string(),
  ownerId: Hex64,
  nodeId: Hex64,
  created: z.object({ ownerKey: z.boolean(), token: z.boolean() }),
  /** Shown once, when `init` made a new owner key from it. */
  recoveryPhrase: z.string().optional(),
  /** `init --recover` set this folder up with a recovered key. */
  recovered: z.literal(true).optional(),
})

export const KeyExportResultSchema = z.object({ ownerId: Hex64, file: z.string() })

export const SnapshotInfoSchema = z.looseObject({
  id: z.string().min(1),
  root: z.string().min(1),
  at: z.number(),
  tree: Hex64,
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
})
export const SnapshotListSchema = z.array(SnapshotInfoSchema)

const entryBase = { path: z.string().min(1), mtime: z.number().int().nonnegative() }
export const SnapshotEntrySchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('file'),
    ...entryBase,
    mode: z.number().int(),
    size: z.number().int().nonnegative(),
    cid: Hex64,
    /** false when the catalogue no longer lists the object (deleted since). */
    listed: z.boolean().optional(),
  }),
  z.looseObject({ type: z.literal('dir'), ...entryBase, mode: z.number().int() }),
  z.looseObject({ type: z.literal('symlink'), ...entryBase, target: z.string().min(1) }),
])
export type SnapshotEntry = z.infer<typeof SnapshotEntrySchema>
export const SnapshotSchema = SnapshotInfoSchema.extend({ entries: z.array(SnapshotEntrySchema) })
