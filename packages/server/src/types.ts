import type { Readable } from 'node:stream'
import type { CatalogueSyncStatus } from './catalogue-sync.js'

/** What the API accepts wherever bytes come in. */
export type Source = Readable | AsyncIterable<Uint8Array> | Uint8Array

/** How many peers should hold an object: a count, or every connected peer. */
export type Replication = number | 'all'

export interface Progress {
  phase: 'ingest' | 'replicate' | 'fetch'
  done: number
  total: number | undefined
}

export interface PutOptions {
  /** A human name recorded in the catalogue; `resolveName` maps it back to the cid. */
  name?: string
  /** Overrides the server's `replication` for this object. */
  replication?: Replication
  onProgress?: (p: Progress) => void
  signal?: AbortSignal
}

export interface PutResult {
  cid: string
  size: number
  /** Node ids that acknowledged a durable replica. */
  replicas: string[]
  /** How many replicas were wanted. */
  wanted: number
  /** True when fewer than `wanted` peers acknowledged; repair finishes the job later. */
  underReplicated: boolean
  /** Peers that would not take a replica in this put (quota, full disk, an error, gone), and why. */
  refused: Refusal[]
}

/** A peer that would not take an object's replica: its error code and message, and when (ms). */
export interface Refusal {
  nodeId: string
  code: string
  message: string
  at: number
}

export interface GetOptions {
  /** First byte to stream (default 0). Only the chunks the range touches are read, each verified. */
  start?: number
  /** Last byte to stream, inclusive (default the last byte); clamped to the object's end. */
  end?: number
  onProgress?: (p: Progress) => void
  signal?: AbortSignal
}

/** A peer that was skipped during a fetch, and why. */
export interface SkippedPeer {
  nodeId: string
  code: string
  message: string
}

export interface GetResult {
  cid: string
  size: number
  stream: Readable
  /**
   * Where the manifest came from: 'local', or the first holder whose commit opened (chunks may come
   * from several holders, and from holders after a damaged local chunk).
   */
  source: 'local' | string
  /** Peers tried before the one that served, with the reason each was skipped. */
  skipped: SkippedPeer[]
}

export interface HolderInfo {
  nodeId: string
  live: boolean
  /** When the holder last proved its replica good (ms): a checked store acknowledged, or a `has` yes. */
  provenAt?: number
  /** When its replica was last found damaged (it served bytes that failed their check), unless proven good since. */
  damagedAt?: number
  /** When it last passed an audit (a random chunk served and checked). */
  auditedAt?: number
}

/** A peer that held a replica and failed its audit: it no longer counts, and repair replaced its replica. */
export interface FailedAudit {
  nodeId: string
  at: number
  code: string
}

export interface ObjectInfo {
  cid: string
  size: number
  names: string[]
  created: number
  /** A replica of the object is in this node's store (namespace `self`). */
  local: boolean
  /** Replicas wanted; 0 for an object read through someone else's capability. */
  wanted: number
  holders: HolderInfo[]
  /** Read through a capability: owned by someone else, never replicated from here. */
  shared: boolean
  /** The last refusal of each peer that would not take a replica and has not taken one since. */
  refusals: Refusal[]
  /** Peers that held a replica and failed an audit (no longer counted in `holders`). */
  failedAudits: FailedAudit[]
}

export interface PeerInfo {
  nodeId: string
  addr: string | undefined
  connected: boolean
  ownerId?: string
  /** Since when its current connection is up (ms since the epoch). */
  connectedAt?: number
  /** Object bytes received from and sent to it since this node started (replicas, fetches). */
  bytesIn?: number
  bytesOut?: number
  /** Replicas of this owner's objects the catalogue counts on it holding. */
  holds?: { objects: number; bytes: number }
  /** Replicas this node holds for its owner (known once it connected). */
  heldForIt?: { objects: number; bytes: number }
}

export interface RepairStatus {
  healthy: number
  underReplicated: number
  repairing: number
  lastRun: number | undefined
  /** While a pass runs: objects it has checked so far, of those it will check. */
  pass?: { checked: number; total: number }
}

/** What the audits found since start (see audit.ts). */
export interface AuditStatus {
  passed: number
  failed: number
  /** Audits that said nothing (the holder busy, a timeout); three in a row count as a failure. */
  inconclusive: number
  /** Bytes the audits fetched (or were charged, at least 4 KiB each). */
  bytes: number
  /** Rounds completed (every live holder of every object audited once). */
  rounds: number
  lastRound: number | undefined
}

export interface NodeStatus {
  nodeId: string
  ownerId: string
  listenAddr: string
  /**
   * Known: in the peer book or connected. Verified: in the book's verified tier (reached at their
   * address). Unverified: in its gossip-only tier.
   */
  /** `members`: the nodes placement ranks (connected, or known with an address and not unreachable lately). */
  peers: { known: number; connected: number; members: number; verified: number; unverified: number }
  objects: number
  bytes: number
  held: { owners: number; objects: number; bytes: number }
  repair: RepairStatus
  /** Audits of holders; undefined when audits are off. */
  audits?: AuditStatus | undefined
  /** The owner's catalogue log: its ops, what of this device's is not yet published, its head. */
  catalogue: CatalogueSyncStatus
}

/** A snapshot of a folder as the catalogue lists it. */
export interface SnapshotInfo {
  /** Its op id in the catalogue log (`<device>:<counter>`); a start of it names it too. */
  id: string
  /** The name the folder was stored under: its files are named `<root>/<path>`. */
  root: string
  /** When it was taken (ms since the epoch). */
  at: number
  /** The cid of the folder's tree. */
  tree: string
  files: number
  bytes: number
  /** Trees this snapshot stored (the others were unchanged since an earlier one); only on the put. */
  stored?: number
}
