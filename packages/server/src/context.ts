import type { OwnerKey, OwnerSecrets, SealThread } from '@cas/crypto'
import type { Transport } from '@cas/p2p'
import type { Store } from '@cas/store'
import type { Catalogue } from './catalogue.js'
import type { DeviceLog } from './catalogue-log.js'
import type { Logger } from './logger.js'
import type { Membership } from './membership.js'
import type { CommitSigner } from './object/commit-signer.js'
import type { SmallReplicaSender } from './protocol/store.js'
import type { RateLimiter } from './rate-limiter.js'

/** A finished transfer, for metrics. */
export interface TransferEvent {
  direction: 'in' | 'out'
  kind: 'replica' | 'fetch'
  nodeId: string
  bytes: number
}

/** A peer skipped during a fetch because it served bad data, nothing, or too slowly. */
export interface BadPeerEvent {
  nodeId: string
  cid: string
  code: string
  message: string
}

/** What the parts of a FileServer share; built once in start(). */
export interface ServerContext {
  readonly store: Store
  readonly catalogue: Catalogue
  readonly transport: Transport
  /** The network's members and connections to them on demand (placement ranks members). */
  readonly members: Membership
  readonly ownerKey: OwnerKey
  /** Signs the commits of this node's puts, those that end together with one signature. */
  readonly commitSigner: CommitSigner
  /** Sends the replicas of small puts that end together to each holder in one request. */
  readonly smallReplicas: SmallReplicaSender
  /** Where puts hash their full chunks' plaintext; undefined: on the main thread (`sealThread: false`). */
  readonly sealThread: SealThread | undefined
  readonly secrets: OwnerSecrets
  readonly ownerId: string
  readonly logger: Logger
  readonly fetchTimeout: number
  /** The `replicationRate` limit on replica bytes sent (put fan-out, repair, healing); undefined when unlimited. */
  readonly replicationLimiter: RateLimiter | undefined
  /**
   * Cids whose put is still sending its replicas, with how many puts send them. Repair leaves them
   * alone: a second replication of the same object to the same peers would race the first (two
   * temporaries on each holder, twice the bytes, and a replica that may be written twice).
   */
  readonly replicating: Map<string, number>
  /**
   * Peers that failed an audit of any object, and when: placement ranks them after every other
   * candidate for a day (a peer that lost one replica is not the best home for the next).
   */
  readonly auditFailures: Map<string, number>
  /** The owner's catalogue log; this node's puts and deletes are recorded in it as ops. */
  readonly log: DeviceLog
  /** Counts chunks read to serve gets (local and from peers), for metrics and tests. */
  readonly counters: { chunksRead: number }
  onTransfer(e: TransferEvent): void
  onBadPeer(e: BadPeerEvent): void
  /** A replica held for another owner was found damaged and removed. */
  onDamagedReplica?(ownerId: string, locator: string): Promise<void>
}
