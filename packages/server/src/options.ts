import type { OwnerKey } from '@cas/crypto'
import type { NodeIdentity, Transport } from '@cas/p2p'
import type { Store } from '@cas/store'
import * as z from 'zod'
import { InvalidOptionsError } from './errors.js'
import type { Logger } from './logger.js'
import type { PeerFinder } from './peer-finder.js'
import type { Replication } from './types.js'

/**
 * Replicas wanted per object: 2, so that the smallest useful network (three
 * nodes: the owner and two peers) is healthy as set up, and one lost peer
 * still leaves a copy. `'all'` (every connected peer) is one option away.
 */
export const DEFAULT_REPLICATION = 2
/** How often repair checks every owned object, in ms. */
export const DEFAULT_REPAIR_INTERVAL = 60_000
/** How long a holder may be unreachable before its replica is placed elsewhere, in ms. */
export const DEFAULT_REPAIR_GRACE = 10 * 60_000
/**
 * The bound of the connection pool: most nodes connected at once. Discovery dials up to it; past
 * it, the least recently used idle connections close (members are reached again when needed).
 */
export const DEFAULT_MAX_PEERS = 32
/**
 * Connections discovery keeps open on its own (the low watermark): it dials peers it knows while
 * fewer are connected. Enough for gossip to reach everyone; members beyond them are dialled when needed.
 */
export const DEFAULT_MIN_PEERS = 8
/** How often a node exchanges peer records with a few connected peers, in ms. */
export const DEFAULT_GOSSIP_INTERVAL = 10_000
/** Peers picked for each periodic gossip round. */
export const DEFAULT_GOSSIP_FANOUT = 3
/** Gossip messages accepted from one peer per `gossipInterval`; more are refused. */
export const DEFAULT_GOSSIP_PER_SOURCE = 10
/** Peers kept in the peer book's verified tier: nodes this node completed a handshake with at their address. */
export const DEFAULT_MAX_VERIFIED_PEERS = 1_000
/** Records kept in the peer book's gossip-only tier: heard of, never reached. Never written to disk. */
export const DEFAULT_MAX_UNVERIFIED_PEERS = 256
/** Dials of gossip-only addresses per `gossipInterval`, all hosts together. */
export const DEFAULT_UNVERIFIED_DIALS = 4
/** Dials of gossip-only addresses on one host (IP or name) per `gossipInterval`. */
export const DEFAULT_UNVERIFIED_DIALS_PER_HOST = 2
/** Consecutive failed dials after which a gossip-only record is dropped. */
export const DEFAULT_UNVERIFIED_FAILURES = 3
/** Consecutive failed dials after which a verified peer is dropped, once it is also `verifiedMaxAge` unseen. */
export const DEFAULT_VERIFIED_FAILURES = 10
/** How long a verified peer may go unseen (not connected) before failed dials can drop it, in ms: 7 days. */
export const DEFAULT_VERIFIED_MAX_AGE = 7 * 24 * 60 * 60_000
/** Time a peer has to answer a request, and longest silence inside a transfer, in ms. */
export const DEFAULT_FETCH_TIMEOUT = 15_000
/** Replicas sent at once by put and repair. */
export const DEFAULT_REPLICATE_CONCURRENCY = 4
/** A signed delete or store is refused when its issuedAt is this far in the future, in ms. */
export const DEFAULT_MAX_CLOCK_SKEW = 5 * 60_000
/** Bytes queued for one holder during a put before the put waits for it: 8 chunks. */
export const DEFAULT_HOLDER_QUEUE_BYTES = 8 * 1024 * 1024
/** How long a put waits for a holder that takes nothing while its queue is full, before dropping it, in ms. */
export const DEFAULT_HOLDER_STALL = 2_000
/**
 * Free disk a node keeps for itself: stores for other owners are refused once they would leave less,
 * so no peer (nor all of them together) can fill the disk, whatever the quotas say.
 */
export const DEFAULT_MIN_FREE_DISK = 256 * 1024 * 1024
/**
 * Free inodes a node keeps on the store's file system: each replica takes a file and folders whatever
 * its size, so a flood of empty replicas is refused here before the disk runs out of inodes.
 */
export const DEFAULT_MIN_FREE_INODES = 100_000
/**
 * Objects (replicas, local copies) of at most this many bytes on disk go to the store's pack files,
 * written together with one fsync, instead of a file and eight folders each. 64 KiB: a file of its
 * own costs as much in inodes and fsyncs as 16 of these in a pack.
 */
export const DEFAULT_PACK_BELOW = 64 * 1024
/** How often a node re-checks every replica it holds for others against its commit, in ms (a scrub). */
export const DEFAULT_SCRUB_INTERVAL = 24 * 60 * 60_000
/**
 * Bytes per second a node spends auditing its holders (random chunks fetched and checked): 64 KiB/s,
 * about 5 GiB a day over all holders, one 1 MiB chunk every 16 s. 0 turns audits off.
 */
export const DEFAULT_AUDIT_RATE = 64 * 1024
/** Pause between two audit rounds (each audits every live holder of every object once), in ms. */
export const DEFAULT_AUDIT_INTERVAL = 10 * 60_000
/**
 * Pause between two syncs of the owner's catalogue from the heads the peers hold (other devices'
 * changes arrive within it), in ms. A sync also runs when the first peer connects.
 */
export const DEFAULT_CATALOGUE_SYNC_INTERVAL = 60_000
/** Wait after a change to the catalogue before it is published, so that changes made together share a segment. */
export const DEFAULT_CATALOGUE_PUBLISH_DELAY = 1_000
/** Longest silence of a holder inside a chunk request of a get before its chunks go to another holder, in ms. */
export const DEFAULT_CHUNK_STALL = 5_000

export interface Quota {
  /** Bytes held for any one other owner. Default unlimited. */
  perOwner?: number
  /** Bytes held for all other owners together. Default unlimited. */
  total?: number
}

/**
 * The peer book: verified peers (this node completed a handshake with the node id at the address)
 * apart from gossip-only records (signed by the node, but anyone can mint a node id and sign any
 * address). Only verified peers are written to disk and reloaded at start; gossip cannot displace
 * them. A full gossip-only tier drops a record to take a new one, so a newcomer is never refused.
 */
export interface PeerBookOptions {
  /** Default DEFAULT_MAX_VERIFIED_PEERS (1,000). */
  maxVerified?: number
  /** Default DEFAULT_MAX_UNVERIFIED_PEERS (256). */
  maxUnverified?: number
  /**
   * Gossip-only addresses dialled per `gossipInterval` (one connect attempt each, and one address
   * at most once per its backoff), so that no peer can steer this node into dialling host:port
   * pairs at will. Default DEFAULT_UNVERIFIED_DIALS (4).
   */
  unverifiedDials?: number
  /** Of those, on one host. Default DEFAULT_UNVERIFIED_DIALS_PER_HOST (2). */
  unverifiedDialsPerHost?: number
  /** Default DEFAULT_UNVERIFIED_FAILURES (3). */
  unverifiedFailures?: number
  /** Default DEFAULT_VERIFIED_FAILURES (10). */
  verifiedFailures?: number
  /** Default DEFAULT_VERIFIED_MAX_AGE (7 days), in ms. */
  verifiedMaxAge?: number
}

/** The peer book's options with every default filled in. */
export function peerBookOptions(o: PeerBookOptions = {}): Required<PeerBookOptions> {
  return {
    maxVerified: o.maxVerified ?? DEFAULT_MAX_VERIFIED_PEERS,
    maxUnverified: o.maxUnverified ?? DEFAULT_MAX_UNVERIFIED_PEERS,
    unverifiedDials: o.unverifiedDials ?? DEFAULT_UNVERIFIED_DIALS,
    unverifiedDialsPerHost: o.unverifiedDialsPerHost ?? DEFAULT_UNVERIFIED_DIALS_PER_HOST,
    unverifiedFailures: o.unverifiedFailures ?? DEFAULT_UNVERIFIED_FAILURES,
    verifiedFailures: o.verifiedFailures ?? DEFAULT_VERIFIED_FAILURES,
    verifiedMaxAge: o.verifiedMaxAge ?? DEFAULT_VERIFIED_MAX_AGE,
  }
}

export interface FileServerOptions {
  /** Store in `<dataDir>/store`, catalogue in `<dataDir>/catalogue`. */
  dataDir: string
  /** Use this store instead of `<dataDir>/store` (the catalogue stays in dataDir). */
  store?: Store
  ownerKey: OwnerKey
  transport: Transport
  /**
   * The node's certificate and key (the same the transport uses). With it the
   * node signs the peer record it gossips; without it, peers learn this node's
   * address only by connecting to it.
   */
  identity?: NodeIdentity
  /** Replicas per object, or 'all' for every connected peer. Default DEFAULT_REPLICATION (2). */
  replication?: Replication
  /** 'host:port' addresses dialled at start and retried until reached. Default none. */
  bootstrap?: string[]
  /** Bytes held for others; default unlimited. */
  quota?: Quota
  /** Default DEFAULT_REPAIR_INTERVAL (60 s); 0 turns periodic repair off. */
  repairInterval?: number
  /** Default DEFAULT_REPAIR_GRACE (10 min). */
  repairGrace?: number
  /**
   * Other sources of peers, started after the bootstrap dials (LanDiscovery, or your own): what
   * they report is dialled within the dial budget and kept when the handshake admits it. Default none.
   */
  finders?: PeerFinder[]
  /** Most nodes connected at once (the connection pool's bound). Default DEFAULT_MAX_PEERS (32). */
  maxPeers?: number
  /** Connections discovery keeps open on its own, at most maxPeers. Default DEFAULT_MIN_PEERS (8). */
  minPeers?: number
  /** Default DEFAULT_GOSSIP_INTERVAL (10 s). */
  gossipInterval?: number
  /** Tiers, caps, eviction and the dial budget of the peer book; see PeerBookOptions. */
  peerBook?: PeerBookOptions
  /** Default DEFAULT_FETCH_TIMEOUT (15 s). */
  fetchTimeout?: number
  /**
   * Hash the full chunks' plaintext of a put on a worker thread, beside the thread that receives
   * the bytes. Default true; false seals everything on the main thread.
   */
  sealThread?: boolean
  /** Default DEFAULT_HOLDER_QUEUE_BYTES (8 MiB). */
  holderQueueBytes?: number
  /** Default DEFAULT_HOLDER_STALL (2 s). */
  holderStall?: number
  /** Default DEFAULT_CHUNK_STALL (5 s). */
  chunkStall?: number
  /** Default DEFAULT_SCRUB_INTERVAL (24 h); 0 turns the periodic scrub of held replicas off. */
  scrubInterval?: number
  /** Default DEFAULT_PACK_BELOW (64 KiB); 0 gives every object a file. Used when `store` is not given. */
  packBelow?: number
  /**
   * Most replica bytes per second this node sends to holders, all transfers together: a put's fan-out
   * (which then runs at this rate over its R holders), repair and healing. Gets served to peers and
   * the node's own fetches are not limited. Default unlimited.
   */
  replicationRate?: number
  /** Default DEFAULT_MIN_FREE_DISK (256 MiB); 0 turns the check off (and that of inodes). */
  minFreeDisk?: number
  /** Default DEFAULT_MIN_FREE_INODES (100,000); checked with minFreeDisk, where the file system counts inodes. */
  minFreeInodes?: number
  /** Bytes per second spent on audits of holders; default DEFAULT_AUDIT_RATE (64 KiB/s); 0 turns audits off. */
  auditRate?: number
  /** Default DEFAULT_AUDIT_INTERVAL (10 min). */
  auditInterval?: number
  /** Default DEFAULT_CATALOGUE_SYNC_INTERVAL (1 min). */
  catalogueSyncInterval?: number
  /** Default DEFAULT_CATALOGUE_PUBLISH_DELAY (1 s). */
  cataloguePublishDelay?: number
  logger?: Logger
}

const count = z.number().int().nonnegative()
const ms = z.number().int().nonnegative()
const numericOptions = z.object({
  replication: z.union([count, z.literal('all')]).optional(),
  bootstrap: z.array(z.string().regex(/^[^\s]+:\d{1,5}$/, 'host:port')).optional(),
  quota: z.object({ perOwner: count.optional(), total: count.optional() }).optional(),
  repairInterval: ms.optional(),
  repairGrace: ms.optional(),
  maxPeers: count.optional(),
  minPeers: count.optional(),
  gossipInterval: z.number().int().positive().optional(),
  peerBook: z
    .object({
      maxVerified: count.optional(),
      maxUnverified: count.optional(),
      unverifiedDials: count.optional(),
      unverifiedDialsPerHost: count.optional(),
      unverifiedFailures: z.number().int().positive().optional(),
      verifiedFailures: z.number().int().positive().optional(),
      verifiedMaxAge: ms.optional(),
    })
    .optional(),
  fetchTimeout: z.number().int().positive().optional(),
  holderQueueBytes: z
    .number()
    .int()
    .min(2 * 1024 * 1024)
    .optional(),
  holderStall: z.number().int().positive().optional(),
  chunkStall: z.number().int().positive().optional(),
  scrubInterval: ms.optional(),
  packBelow: count.max(16 * 1024 * 1024).optional(),
  replicationRate: z.number().int().positive().optional(),
  minFreeDisk: count.optional(),
  minFreeInodes: count.optional(),
  auditRate: count.optional(),
  auditInterval: ms.optional(),
  catalogueSyncInterval: ms.optional(),
  cataloguePublishDelay: z.number().int().nonnegative().max(60_000).optional(),
})

/** Checks the plain-data options; the objects (keys, transport, store) are typed already. */
export function validateOptions(options: FileServerOptions): void {
  if (typeof options.dataDir !== 'string' || options.dataDir === '') {
    throw new InvalidOptionsError('dataDir must be a non-empty path')
  }
  const parsed = numericOptions.safeParse(options)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new InvalidOptionsError(`${issue?.path.join('.') ?? 'options'}: ${issue?.message ?? 'invalid'}`)
  }
}
