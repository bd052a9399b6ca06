export {
  CAPABILITY_PREFIX,
  type Capability,
  decodeCapability,
  encodeCapability,
  isCapability,
} from './capability.js'
export type { HeldRecord, ObjectRecord, PeerBookEntry } from './catalogue.js'
export { Catalogue } from './catalogue.js'
export { MAX_HEAD_BOX_BYTES, MAX_HEADS_PER_OWNER } from './catalogue-head.js'
export { type CatalogueOp, catalogueOpSchema, type LoggedObject, type SnapshotOp } from './catalogue-log.js'
export {
  type CatalogueSyncStatus,
  COMPACT_AT_SEGMENTS,
  HEAD_HOLDERS,
  type SyncResult,
} from './catalogue-sync.js'
export type { BadPeerEvent, TransferEvent } from './context.js'
export {
  assertNotRunning,
  type DataDir,
  OWNER_KEY_FILE,
  type PrepareDataDirOptions,
  prepareDataDir,
} from './data-dir.js'
export {
  DEFAULT_DHT_ANNOUNCE_INTERVAL,
  DEFAULT_DHT_LOOKUP_INTERVAL,
  DhtDiscovery,
  type DhtDiscoveryOptions,
  type DhtRecord,
  decodeDhtRecord,
  dhtTopic,
  encodeDhtRecord,
  MAX_DHT_KEYS_PER_LOOKUP,
  MAX_DHT_RECORD_BYTES,
} from './dht-discovery.js'
export {
  AmbiguousRefError,
  BadRequestError,
  DamagedObjectError,
  DamagedReplicasError,
  DataDirError,
  errorCode,
  HolderStalledError,
  HoldersUnreachableError,
  InvalidCapabilityError,
  InvalidIdError,
  InvalidNameError,
  InvalidOptionsError,
  InvalidRangeError,
  LowDiskError,
  NodeRunningError,
  NotFoundError,
  NotRunningError,
  ObjectTooLargeError,
  PeerTimeoutError,
  QuotaExceededError,
  RateLimitedError,
  ReplicaMismatchError,
  ServerError,
  SizeMismatchError,
  StaleReplicaError,
  UnauthorizedError,
  UnsupportedFormatError,
} from './errors.js'
export { DEFAULT_STOP_TIMEOUT, FileServer, type FileServerEvents, MIN_CID_PREFIX } from './file-server.js'
export { HELD_REPLICA_OVERHEAD } from './held-replicas.js'
export { assertId, ID_PATTERN, isId } from './ids.js'
export {
  DEFAULT_LAN_DISCOVERY_PORT,
  DEFAULT_LAN_QUERY_INTERVAL,
  LAN_SERVICE,
  LanDiscovery,
  type LanDiscoveryOptions,
} from './lan-discovery.js'
export { type Logger, noopLogger } from './logger.js'
export { assertName, MAX_NAME_BYTES, nameProblem } from './names.js'
export {
  type Commit,
  type CommitChunk,
  decodeCommit,
  encodeCommit,
  MAX_CHUNKS,
  MAX_COMMIT_BATCH,
  MAX_SIGNED_COMMIT_BYTES,
  openSignedCommit,
  type SignedCommit,
  signCommit,
  signCommits,
} from './object/commit.js'
export { CommitSigner } from './object/commit-signer.js'
export type { ObjectRef } from './object/object-ref.js'
export { RECORD_CHUNK, RECORD_COMMIT, readRecords, recordHead } from './object/record-stream.js'
export { FOOTER_BYTES, REPLICA_MAGIC, readReplicaHead, replicaTrailer } from './object/replica-file.js'
export {
  DEFAULT_AUDIT_INTERVAL,
  DEFAULT_AUDIT_RATE,
  DEFAULT_CATALOGUE_PUBLISH_DELAY,
  DEFAULT_CATALOGUE_SYNC_INTERVAL,
  DEFAULT_CHUNK_STALL,
  DEFAULT_FETCH_TIMEOUT,
  DEFAULT_GOSSIP_FANOUT,
  DEFAULT_GOSSIP_INTERVAL,
  DEFAULT_GOSSIP_PER_SOURCE,
  DEFAULT_HOLDER_QUEUE_BYTES,
  DEFAULT_HOLDER_STALL,
  DEFAULT_MAX_CLOCK_SKEW,
  DEFAULT_MAX_PEERS,
  DEFAULT_MAX_UNVERIFIED_PEERS,
  DEFAULT_MAX_VERIFIED_PEERS,
  DEFAULT_MIN_FREE_DISK,
  DEFAULT_MIN_FREE_INODES,
  DEFAULT_MIN_PEERS,
  DEFAULT_PACK_BELOW,
  DEFAULT_REPAIR_GRACE,
  DEFAULT_REPAIR_INTERVAL,
  DEFAULT_REPLICATE_CONCURRENCY,
  DEFAULT_REPLICATION,
  DEFAULT_SCRUB_INTERVAL,
  DEFAULT_UNVERIFIED_DIALS,
  DEFAULT_UNVERIFIED_DIALS_PER_HOST,
  DEFAULT_UNVERIFIED_FAILURES,
  DEFAULT_VERIFIED_FAILURES,
  DEFAULT_VERIFIED_MAX_AGE,
  type FileServerOptions,
  type PeerBookOptions,
  peerBookOptions,
  type Quota,
  validateOptions,
} from './options.js'
export { ownerSigner } from './owner-signer.js'
export type { FoundPeer, PeerFinder } from './peer-finder.js'
export { PeerRecordSigner, verifyPeerRecord } from './peer-record.js'
export {
  MAX_GOSSIP_RECORDS,
  MAX_HAS_LOCATORS,
  type PeerRecord,
  peerRecordSchema,
  requestSchema,
} from './protocol/messages.js'
export { RateLimiter } from './rate-limiter.js'
export { rankNodes } from './rendezvous.js'
export {
  MAX_SNAPSHOT_ENTRIES,
  MAX_TREE_BYTES,
  pathProblem,
  type SnapshotEntry,
  snapshotEntrySchema,
} from './snapshot-tree.js'
export type {
  AuditStatus,
  FailedAudit,
  GetOptions,
  GetResult,
  HolderInfo,
  NodeStatus,
  ObjectInfo,
  PeerInfo,
  Progress,
  PutOptions,
  PutResult,
  Refusal,
  RepairStatus,
  Replication,
  SkippedPeer,
  SnapshotInfo,
  Source,
} from './types.js'
