import { randomBytes } from 'node:crypto'
import { EventEmitter, setMaxListeners } from 'node:events'
import { join } from 'node:path'
import {
  deriveOwnerSecrets,
  locatorOf,
  ObjectOpener,
  type OwnerSecrets,
  openObjectKey,
  ownerIdOf,
  SealThread,
} from '@cas/crypto'
import { backoffDelay, type Peer, type Transport } from '@cas/p2p'
import { Store } from '@cas/store'
import { Auditor } from './audit.js'
import { decodeCapability, encodeCapability, isCapability } from './capability.js'
import { CATALOGUE_FORMAT, Catalogue, type ObjectRecord } from './catalogue.js'
import { type CatalogueOp, CatalogueState, DeviceLog, type SnapshotOp } from './catalogue-log.js'
import { CatalogueSync, type SyncResult } from './catalogue-sync.js'
import type { BadPeerEvent, ServerContext, TransferEvent } from './context.js'
import { Deleter } from './delete.js'
import { Discovery } from './discovery.js'
import { DiskGuard } from './disk-guard.js'
import {
  AmbiguousRefError,
  BadRequestError,
  NotFoundError,
  NotRunningError,
  ObjectTooLargeError,
  UnauthorizedError,
  UnsupportedFormatError,
} from './errors.js'
import { type GetTuning, Getter } from './get-object.js'
import { healReplicas } from './heal-replicas.js'
import { HeldReplicas } from './held-replicas.js'
import { assertId, ID_PATTERN } from './ids.js'
import { LinkedAbort } from './linked-abort.js'
import type { Logger } from './logger.js'
import { noopLogger } from './logger.js'
import { Membership } from './membership.js'
import { assertName, nameProblem } from './names.js'
import { CommitSigner } from './object/commit-signer.js'
import type { ObjectRef } from './object/object-ref.js'
import { readReplicaHead } from './object/replica-file.js'
import {
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
  DEFAULT_MIN_FREE_DISK,
  DEFAULT_MIN_FREE_INODES,
  DEFAULT_MIN_PEERS,
  DEFAULT_PACK_BELOW,
  DEFAULT_REPAIR_GRACE,
  DEFAULT_REPAIR_INTERVAL,
  DEFAULT_REPLICATE_CONCURRENCY,
  DEFAULT_REPLICATION,
  DEFAULT_SCRUB_INTERVAL,
  type FileServerOptions,
  peerBookOptions,
  validateOptions,
} from './options.js'
import { PeerRecordSigner } from './peer-record.js'
import { PeerTraffic } from './peer-traffic.js'
import { livePeers, wantedReplicas } from './placement.js'
import { createRequestHandler } from './protocol/request-handler.js'
import { SmallReplicaSender } from './protocol/store.js'
import { type PutTuning, putObject } from './put-object.js'
import { RateLimiter } from './rate-limiter.js'
import { rebuildCatalogue } from './rebuild.js'
import { Repairer } from './repair.js'
import { readTrees, type SnapshotEntry, snapshotEntriesSchema, storeTrees } from './snapshot-tree.js'
import type {
  AuditStatus,
  GetOptions,
  GetResult,
  NodeStatus,
  ObjectInfo,
  PeerInfo,
  PutOptions,
  PutResult,
  RepairStatus,
  Replication,
  SnapshotInfo,
  Source,
} from './types.js'
import { verifyHeld, verifyLocal } from './verify.js'

/** A sync that could not read every segment is tried again after about this long, doubling up to the max (ms). */
const SYNC_RETRY_BASE = 2_000
const SYNC_RETRY_MAX = 60_000

/** The fewest hex digits a cid prefix needs: fewer would match by chance in a large catalogue. */
export const MIN_CID_PREFIX = 4
/** Candidates an ambiguous ref lists. */
const MAX_AMBIGUOUS_LISTED = 10

/** How long stop() lets transfers in progress finish before it aborts them, in ms. */
export const DEFAULT_STOP_TIMEOUT = 5_000

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped'

/** The events a FileServer emits, with their payloads. */
export interface FileServerEvents {
  peer: [PeerInfo]
  'peer:close': [PeerInfo]
  /** A peer served tampered or wrong data during a fetch, or went silent. */
  'peer:bad': [BadPeerEvent]
  /** Repair status: when an object's repair starts, and after each pass. */
  repair: [RepairStatus]
  /** A finished transfer, for metrics. */
  transfer: [TransferEvent]
}

/**
 * A cas node: a local content-addressed store whose objects are encrypted with
 * the owner's keys and replicated to peers ranked by rendezvous hashing,
 * fetched back and verified when missing, deleted by signed request, found by
 * gossip and kept at their replica count by repair.
 */
export class FileServer extends EventEmitter<FileServerEvents> {
  readonly nodeId: string
  readonly ownerId: string
  readonly #o: FileServerOptions
  readonly #store: Store
  readonly #disk: DiskGuard
  readonly #transport: Transport
  readonly #secrets: OwnerSecrets
  readonly #logger: Logger
  readonly #replication: Replication
  readonly #held: HeldReplicas
  readonly #lifetime = new AbortController()
  readonly #inflight = new Set<Promise<unknown>>()
  /** Requests from peers being served. */
  readonly #serving = new Set<Promise<unknown>>()
  readonly #getter = new Getter({
    onBadHolders: (cid, holders) => this.#heal(cid, holders),
    onLocalDamaged: (cid) => this.#refetchLocal(cid),
  })
  readonly #putTuning: PutTuning
  readonly #getTuning: GetTuning
  readonly #counters = { chunksRead: 0 }
  readonly #traffic = new PeerTraffic()
  #state: State = 'new'
  /** Set once stop closes the catalogue: late work (a damaged replica found by a stream) leaves it alone. */
  #closing = false
  #catalogue: Catalogue | undefined
  #discovery: Discovery | undefined
  #repairer: Repairer | undefined
  #auditor: Auditor | undefined
  #catalogueSync: CatalogueSync | undefined
  #catalogueTimer: NodeJS.Timeout | undefined
  #catalogueSynced = false
  #syncRetry: NodeJS.Timeout | undefined
  /** Syncs in a row that could not read every segment. */
  #syncFailures = 0
  #deleter: Deleter | undefined
  #ctx: ServerContext | undefined
  #scrubTimer: NodeJS.Timeout | undefined

  constructor(options: FileServerOptions) {
    super()
    validateOptions(options)
    this.#o = options
    this.#transport = options.transport
    this.#store =
      options.store ??
      new Store({ root: join(options.dataDir, 'store'), packBelow: options.packBelow ?? DEFAULT_PACK_BELOW })
    this.#disk = new DiskGuard({
      root: this.#store.root,
      minFree: options.minFreeDisk ?? DEFAULT_MIN_FREE_DISK,
      minInodes: options.minFreeInodes ?? DEFAULT_MIN_FREE_INODES,
    })
    this.#secrets = deriveOwnerSecrets(options.ownerKey)
    this.#logger = options.logger ?? noopLogger
    this.#replication = options.replication ?? DEFAULT_REPLICATION
    this.#held = new HeldReplicas(options.quota ?? {})
    this.nodeId = options.transport.nodeId
    this.ownerId = options.ownerKey.ownerId
    this.#putTuning = {
      holderQueueBytes: options.holderQueueBytes ?? DEFAULT_HOLDER_QUEUE_BYTES,
      holderStallMs: options.holderStall ?? DEFAULT_HOLDER_STALL,
    }
    this.#getTuning = { batch: 2, window: 2, chunkStallMs: options.chunkStall ?? DEFAULT_CHUNK_STALL }
    // Every operation in flight listens on the lifetime signal; there is no leak to warn about.
    setMaxListeners(0, this.#lifetime.signal)
  }

  get listenAddr(): string {
    return this.#transport.listenAddr
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new NotRunningError(this.#state)
    this.#state = 'starting'
    await this.#store.open()
    const catalogue = await Catalogue.open(join(this.#o.dataDir, 'catalogue'))
    const format = catalogue.format()
    if (format !== undefined && format !== CATALOGUE_FORMAT) {
      await catalogue.close()
      this.#state = 'stopped'
      throw new UnsupportedFormatError(this.#o.dataDir, format)
    }
    this.#catalogue = catalogue
    if (catalogue.isEmpty()) {
      await rebuildCatalogue(this.#store, catalogue, this.#secrets)
    }
    await catalogue.setFormat(CATALOGUE_FORMAT)
    this.#held.load(catalogue)
    const log = await loadDeviceLog(catalogue)
    const maxPeers = this.#o.maxPeers ?? DEFAULT_MAX_PEERS
    const fetchTimeout = this.#o.fetchTimeout ?? DEFAULT_FETCH_TIMEOUT
    const ctx: ServerContext = {
      log,
      store: this.#store,
      catalogue,
      transport: this.#transport,
      members: new Membership({
        transport: this.#transport,
        knownIds: () => this.#discovery?.knownIds() ?? [],
        addrOf: (nodeId) => this.#discovery?.addrOf(nodeId),
        verified: (nodeId) => this.#discovery?.isVerified(nodeId) ?? false,
        takeDial: (addr) => this.#discovery?.takeDial(addr) ?? false,
        // A member is needed now: no longer than a request may take to answer.
        dial: (addr, nodeId) =>
          (this.#discovery as Discovery).connect(addr, nodeId, 0, AbortSignal.timeout(fetchTimeout)),
        maxConnections: maxPeers,
        logger: this.#logger,
      }),
      ownerKey: this.#o.ownerKey,
      commitSigner: new CommitSigner(this.#o.ownerKey),
      smallReplicas: new SmallReplicaSender(this.ownerId, fetchTimeout),
      sealThread: this.#o.sealThread === false ? undefined : new SealThread(),
      secrets: this.#secrets,
      ownerId: this.ownerId,
      logger: this.#logger,
      fetchTimeout,
      replicationLimiter:
        this.#o.replicationRate === undefined ? undefined : new RateLimiter(this.#o.replicationRate),
      replicating: new Map(),
      auditFailures: new Map(),
      counters: this.#counters,
      onDamagedReplica: (ownerId: string, locator: string) =>
        // Counted as serving: a fetch's answer streams on after its request settled and may find a
        // damaged chunk then, and stop must not close the catalogue under this write. Once the
        // catalogue is closing, the record stays; the next scrub finds the replica gone.
        this.#serve(
          this.#closing
            ? Promise.resolve()
            : // Under the replica's lock, as stores and deletes account for it: a store replacing it at
              // the same moment must not have its new size given back.
              this.#held.exclusive(ownerId, locator, async () => {
                const prev = catalogue.getHeld(ownerId, locator)
                if (!prev) return
                await catalogue.removeHeld(ownerId, locator)
                this.#held.removed(ownerId, prev.size)
              }),
        ),
      onTransfer: (e: TransferEvent) => {
        this.#traffic.count(e.nodeId, e.direction, e.bytes)
        this.emit('transfer', e)
      },
      onBadPeer: (e: BadPeerEvent) => {
        this.#logger.warn({ ...e }, 'peer served bad data or none')
        this.emit('peer:bad', e)
      },
    }
    this.#ctx = ctx
    this.#deleter = new Deleter(ctx)
    this.#repairer = new Repairer(ctx, {
      interval: this.#o.repairInterval ?? DEFAULT_REPAIR_INTERVAL,
      grace: this.#o.repairGrace ?? DEFAULT_REPAIR_GRACE,
      concurrency: DEFAULT_REPLICATE_CONCURRENCY,
      onStatus: (s: RepairStatus) => this.emit('repair', s),
    })
    const auditRate = this.#o.auditRate ?? DEFAULT_AUDIT_RATE
    if (auditRate > 0) {
      this.#auditor = new Auditor(ctx, {
        rate: auditRate,
        interval: this.#o.auditInterval ?? DEFAULT_AUDIT_INTERVAL,
        // The failed holder no longer counts: repair replaces its replica now, not at its next pass.
        onFailed: () => this.#repairer?.rerun(),
      })
    }
    this.#catalogueSync = new CatalogueSync(
      ctx,
      {
        put: (bytes) => this.#putInternal(bytes),
        get: (cid, max) => this.#readInternal(cid, max),
        evict: async (cid) => {
          await this.#store.delete(cid, { namespace: 'self' })
        },
      },
      { publishDelay: this.#o.cataloguePublishDelay ?? DEFAULT_CATALOGUE_PUBLISH_DELAY },
    )
    const discovery = new Discovery({
      transport: this.#transport,
      catalogue,
      signer: this.#o.identity ? new PeerRecordSigner(this.#o.identity) : undefined,
      logger: this.#logger,
      bootstrap: this.#o.bootstrap ?? [],
      minPeers: Math.min(maxPeers, this.#o.minPeers ?? DEFAULT_MIN_PEERS),
      gossipInterval: this.#o.gossipInterval ?? DEFAULT_GOSSIP_INTERVAL,
      fanout: DEFAULT_GOSSIP_FANOUT,
      perSource: DEFAULT_GOSSIP_PER_SOURCE,
      book: peerBookOptions(this.#o.peerBook),
      requestTimeout: ctx.fetchTimeout,
      onRound: () => ctx.members.trim(),
    })
    this.#discovery = discovery
    const handler = createRequestHandler({
      ctx,
      held: this.#held,
      discovery,
      maxClockSkew: DEFAULT_MAX_CLOCK_SKEW,
      checkDisk: (coming) => this.#disk.check(coming),
    })
    // Each request served is kept until it settles: stop waits for them (a store still renaming its
    // replica into place) before it closes the catalogue and the store.
    this.#transport.handle((req) => this.#serve(handler(req)))
    this.#transport.on('peer', this.#onPeer)
    this.#transport.on('peer:close', this.#onPeerClose)
    await this.#transport.listen()
    this.#state = 'running'
    await discovery.start()
    for (const finder of this.#o.finders ?? []) {
      // A finder that cannot start (its port taken, no multicast) leaves the node running without it.
      const self = { nodeId: this.#transport.nodeId, listenAddr: this.#transport.listenAddr }
      await finder
        .start(self, (peer) => discovery.found(peer))
        .catch((err: unknown) => {
          this.#logger.warn({ finder: finder.name, err: String(err) }, 'a peer finder did not start')
        })
    }
    this.#repairer.start()
    this.#auditor?.start()
    const syncEvery = this.#o.catalogueSyncInterval ?? DEFAULT_CATALOGUE_SYNC_INTERVAL
    if (syncEvery > 0) {
      this.#catalogueTimer = setInterval(() => void this.#syncQuietly(), syncEvery)
      this.#catalogueTimer.unref()
    }
    // Ops made before a stop that found no peer to take them.
    this.#catalogueSync.noteChange()
    // Holders check their replicas without any key: damage found here is removed, and repair sends it again.
    const scrubEvery = this.#o.scrubInterval ?? DEFAULT_SCRUB_INTERVAL
    if (scrubEvery > 0) {
      this.#scrubTimer = setInterval(() => {
        void this.#track(() => verifyHeld(ctx)).then(
          (r) => r.removed > 0 && this.#logger.warn({ ...r }, 'scrub removed damaged replicas'),
          (err: unknown) => this.#logger.warn({ err: String(err) }, 'scrub of held replicas failed'),
        )
      }, scrubEvery)
      this.#scrubTimer.unref()
    }
  }

  /**
   * Stops gossip and repair, lets transfers in progress finish for up to
   * `timeout` ms, aborts the rest, then closes the transport and the catalogue.
   */
  async stop(opts: { timeout?: number } = {}): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return
    this.#state = 'stopping'
    clearInterval(this.#scrubTimer)
    this.#discovery?.stop()
    await Promise.all((this.#o.finders ?? []).map((f) => f.stop().catch(() => {})))
    clearInterval(this.#catalogueTimer)
    clearTimeout(this.#syncRetry)
    await Promise.all([this.#repairer?.stop(), this.#auditor?.stop(), this.#catalogueSync?.stop()])
    const settled = Promise.allSettled([...this.#inflight])
    const timer = setTimeout(() => this.#lifetime.abort(), opts.timeout ?? DEFAULT_STOP_TIMEOUT)
    await settled
    clearTimeout(timer)
    this.#lifetime.abort()
    await this.#transport.close()
    // Closing the connections ended the requests being served; their writes finish or are discarded first
    // (again while any settling started more).
    while (this.#serving.size > 0) await Promise.allSettled([...this.#serving])
    this.#closing = true
    await this.#ctx?.sealThread?.close()
    await this.#catalogue?.close()
    // A store passed in belongs to the caller, who closes it.
    if (!this.#o.store) await this.#store.close()
    this.#state = 'stopped'
  }

  async put(source: Source, opts: PutOptions = {}): Promise<PutResult> {
    const ctx = this.#running()
    // Before a byte is ingested: a name the catalogue cannot hold must not leave an unnamed object behind.
    if (opts.name !== undefined) assertName(opts.name)
    const deleter = this.#deleter as Deleter
    return this.#track(
      (signal) =>
        putObject(
          ctx,
          deleter,
          source,
          { ...opts, signal },
          opts.replication ?? this.#replication,
          this.#putTuning,
        ).finally(() => this.#catalogueSync?.noteChange()),
      opts.signal,
      'promise',
    )
  }

  async get(ref: string, opts: GetOptions = {}): Promise<GetResult> {
    const ctx = this.#running()
    return this.#track(async (signal) => {
      const target = this.#resolveRef(ref)
      return this.#getter.get(ctx, target, { ...opts, signal }, this.#replication, this.#getTuning)
    }, opts.signal)
  }

  async has(cid: string): Promise<boolean> {
    this.#running()
    return this.#store.has(assertId('cid', cid), { namespace: 'self' })
  }

  async stat(cid: string): Promise<ObjectInfo> {
    const ctx = this.#running()
    assertId('cid', cid)
    const rec = ctx.catalogue.getObject(cid)
    const local = await this.#store.has(cid, { namespace: 'self' })
    if (!rec) {
      if (!local) throw new NotFoundError(cid, `object ${cid} is not in the catalogue`)
      // A replica the catalogue does not list (a crash between the rename and the catalogue write):
      // its plaintext size is in its manifest.
      const { mtimeMs } = await this.#store.stat(cid, { namespace: 'self' })
      const head = await readReplicaHead(this.#store, 'self', cid)
      const key = openObjectKey(this.#secrets, head.signed.commit.keyBox, locatorOf(this.#secrets, cid))
      const { size } = new ObjectOpener(key, head.signed.commit.manifestBox, cid)
      return {
        cid,
        size,
        names: [],
        created: mtimeMs,
        local,
        wanted: 0,
        holders: [],
        shared: false,
        refusals: [],
        failedAudits: [],
      }
    }
    return this.#info(rec, local)
  }

  async list(): Promise<ObjectInfo[]> {
    const ctx = this.#running()
    const out: ObjectInfo[] = []
    for (const rec of ctx.catalogue.objects()) {
      if (rec.kind === 'catalogue') continue
      out.push(this.#info(rec, await this.#store.has(rec.cid, { namespace: 'self' })))
    }
    return out
  }

  /**
   * The cid a user's ref stands for: a whole cid as it is; else a name stored here, or the start of
   * a cid (at least MIN_CID_PREFIX hex digits) of an object this node knows. A ref that fits more than
   * one object is an AmbiguousRefError listing them (a name and another object's cid prefix
   * included); one that fits none is a NotFoundError.
   */
  async resolveRef(ref: string): Promise<string> {
    if (ID_PATTERN.test(ref)) return ref
    const { catalogue, log } = this.#running()
    const found = new Set<string>()
    if (nameProblem(ref) === undefined) {
      const named = catalogue.resolveName(ref)
      if (named !== undefined) found.add(named)
      // A name written on two devices apart names both objects: the user picks by cid.
      for (const cid of log.state.cidsNamed(ref)) found.add(cid)
    }
    if (ref.length >= MIN_CID_PREFIX && /^[0-9a-f]+$/.test(ref)) {
      for (const cid of catalogue.cidsWithPrefix(ref, MAX_AMBIGUOUS_LISTED)) found.add(cid)
    }
    const [only, ...others] = found
    if (only === undefined) {
      throw new NotFoundError(
        ref,
        `no object, name or cid prefix here matches ${JSON.stringify(ref.slice(0, 80))}`,
      )
    }
    if (others.length === 0) return only
    throw new AmbiguousRefError(
      ref,
      [...found].map((cid) => ({ cid, names: catalogue.getObject(cid)?.names ?? [] })),
    )
  }

  /**
   * Renames an object: `ref` a name (that name moves) or a cid or its start (every name of the
   * object gives way to the new one). The new name leaves any object it named before, as a put under
   * it would. NotFoundError when the catalogue does not list the object.
   */
  async rename(ref: string, to: string): Promise<{ cid: string; names: string[] }> {
    const ctx = this.#running()
    assertName(to)
    const cid = await this.resolveRef(ref)
    const listed = ctx.log.state.object(cid)
    if (!listed) throw new NotFoundError(cid, `object ${cid} is not in this owner's catalogue`)
    const from = listed.names.includes(ref) ? [ref] : listed.names
    const op = ctx.log.rename(cid, from, to)
    if (!op) throw new NotFoundError(cid, `object ${cid} is not in this owner's catalogue`)
    // This object, and any the new name was taken from, as the log now lists them.
    await ctx.catalogue.putLogged(ctx.log.state.listed(ctx.log.state.touchedBy(op)), [op])
    this.#catalogueSync?.noteChange()
    return { cid, names: ctx.log.state.object(cid)?.names ?? [to] }
  }

  /**
   * Records a snapshot of a folder: its trees are stored (those not stored by an earlier snapshot),
   * then one catalogue op names the root tree. Every file it lists must be an object of this owner's
   * catalogue (put first); NotFoundError names the first that is not.
   */
  async putSnapshot(root: string, entries: readonly SnapshotEntry[]): Promise<SnapshotInfo> {
    const ctx = this.#running()
    assertName(root)
    const checked = snapshotEntriesSchema.safeParse(entries)
    if (!checked.success) {
      const issue = checked.error.issues[0]
      throw new BadRequestError(
        `invalid entries: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
      )
    }
    for (const e of entries) {
      if (e.type === 'file' && !ctx.log.state.object(e.cid)) {
        throw new NotFoundError(
          e.cid,
          `${e.path}: object ${e.cid} is not in this owner's catalogue; put it first`,
        )
      }
    }
    return this.#track(async () => {
      const trees = await storeTrees(entries, {
        has: (cid) => ctx.catalogue.getObject(cid) !== undefined,
        put: async (bytes) => (await this.#putInternal(bytes)).cid,
      })
      const op = ctx.log.snapshot({ root, tree: trees.tree, files: trees.files, bytes: trees.bytes })
      await ctx.catalogue.putLogged([], [op])
      this.#catalogueSync?.noteChange()
      return { ...snapshotInfo(op), stored: trees.stored }
    })
  }

  /** Every snapshot of this owner's catalogue, oldest first. */
  snapshots(): SnapshotInfo[] {
    return this.#running().log.state.snapshots().map(snapshotInfo)
  }

  /**
   * One snapshot with its entries (its trees read from here or the network). `ref` is a snapshot's
   * id or its start (at least MIN_CID_PREFIX characters); files whose object the catalogue no
   * longer lists are marked `listed: false`.
   */
  async snapshot(ref: string): Promise<SnapshotInfo & { entries: (SnapshotEntry & { listed?: boolean })[] }> {
    const ctx = this.#running()
    const all = ctx.log.state.snapshots()
    const exact = all.find((s) => s.id === ref)
    const found = exact
      ? [exact]
      : ref.length >= MIN_CID_PREFIX
        ? all.filter((s) => s.id.startsWith(ref))
        : []
    const [op, ...others] = found
    if (!op) throw new NotFoundError(ref, `no snapshot ${JSON.stringify(ref.slice(0, 80))}`)
    if (others.length > 0) {
      throw new AmbiguousRefError(
        ref,
        found.map((s) => ({ cid: s.id, names: [s.root] })),
        'snapshots; use more of the id',
      )
    }
    const entries = await this.#track(() => readTrees(op.tree, (cid, max) => this.#readInternal(cid, max)))
    return {
      ...snapshotInfo(op),
      entries: entries.map((e) =>
        e.type === 'file' && !ctx.log.state.object(e.cid) ? { ...e, listed: false } : e,
      ),
    }
  }

  async resolveName(name: string): Promise<string | undefined> {
    const catalogue = this.#running().catalogue
    // No object can carry an invalid name; looking one up could only fail in the catalogue.
    return nameProblem(name) === undefined ? catalogue.resolveName(name) : undefined
  }

  /**
   * Removes the local copy and asks every connected peer, with an owner-signed request, to drop its replica.
   * NotFoundError when nothing was known of it: no catalogue entry, no local copy, no peer removed one.
   */
  async delete(cid: string): Promise<{ local: boolean; peers: number }> {
    const ctx = this.#running()
    assertId('cid', cid)
    return this.#track(async () => {
      const rec = ctx.catalogue.getObject(cid)
      const local = await this.#store.delete(cid, { namespace: 'self' })
      const op = ctx.log.delete(cid)
      await ctx.catalogue.removeObject(cid, op === undefined ? [] : [op])
      if (op) this.#catalogueSync?.noteChange()
      const peers = await (this.#deleter as Deleter).delete(locatorOf(this.#secrets, cid), rec?.holders ?? [])
      if (!rec && !local && peers === 0) {
        throw new NotFoundError(cid, `no object ${cid} here or on any connected peer: nothing was removed`)
      }
      return { local, peers }
    })
  }

  /**
   * Removes only the local copy; replicas and the catalogue entry stay, so get fetches it back.
   * NotFoundError when the object is neither catalogued nor stored here.
   */
  async evictLocal(cid: string): Promise<boolean> {
    const ctx = this.#running()
    const local = await this.#store.delete(assertId('cid', cid), { namespace: 'self' })
    if (!local && !ctx.catalogue.getObject(cid)) throw new NotFoundError(cid, `no object ${cid} on this node`)
    return local
  }

  /** A capability that lets any node fetch and decrypt this one object and nothing else. */
  share(cid: string): string {
    const ctx = this.#running()
    assertId('cid', cid)
    const rec = ctx.catalogue.getObject(cid)
    if (!rec) throw new NotFoundError(cid, `object ${cid} is not in the catalogue`)
    if (rec.shared) throw new UnauthorizedError(`object ${cid} was read through someone else's capability`)
    // The key of the upload this node holds; an object known only by name here has none yet.
    if (!rec.objectKey)
      throw new NotFoundError(cid, `object ${cid} has no local copy to share yet; get it first`)
    return encodeCapability({
      cid,
      ownerId: this.ownerId,
      locator: locatorOf(this.#secrets, cid),
      objectKey: rec.objectKey,
      size: rec.size,
    })
  }

  /** Every peer known or connected, with what it exchanged and holds (see PeerInfo). */
  peers(): PeerInfo[] {
    const ctx = this.#running()
    const discovery = this.#discovery as Discovery
    const connected = new Map(this.#transport.peers().map((p) => [p.nodeId, p]))
    const ids = new Set([...connected.keys(), ...discovery.knownIds()])
    const holds = new Map<string, { objects: number; bytes: number }>()
    for (const rec of ctx.catalogue.objects()) {
      for (const nodeId of rec.holders) {
        const h = holds.get(nodeId) ?? { objects: 0, bytes: 0 }
        h.objects++
        h.bytes += rec.size
        holds.set(nodeId, h)
      }
    }
    return [...ids].map((nodeId) => {
      const info = peerInfo(nodeId, connected.get(nodeId), discovery.addrOf(nodeId))
      return {
        ...info,
        ...this.#traffic.of(nodeId),
        holds: holds.get(nodeId) ?? { objects: 0, bytes: 0 },
        ...(info.ownerId !== undefined && { heldForIt: this.#held.ownerUsage(info.ownerId) }),
      }
    })
  }

  async connect(addr: string): Promise<PeerInfo> {
    this.#running()
    const peer = await (this.#discovery as Discovery).connect(addr)
    return peerInfo(peer.nodeId, peer, addr)
  }

  async status(): Promise<NodeStatus> {
    const ctx = this.#running()
    let objects = 0
    let bytes = 0
    for (const rec of ctx.catalogue.objects()) {
      if (rec.kind === 'catalogue') continue
      objects++
      bytes += rec.size
    }
    const peers = this.peers()
    return {
      nodeId: this.nodeId,
      ownerId: this.ownerId,
      listenAddr: this.#transport.listenAddr,
      peers: {
        known: peers.length,
        connected: peers.filter((p) => p.connected).length,
        members: ctx.members.ids().length,
        ...(this.#discovery as Discovery).bookCounts(),
      },
      objects,
      bytes,
      held: this.#held.usage(),
      repair: (this.#repairer as Repairer).status,
      ...(this.#auditor && { audits: this.#auditor.status }),
      catalogue: (this.#catalogueSync as CatalogueSync).status(),
    }
  }

  /**
   * Gathers the catalogue heads of every device of this owner from the connected peers and merges
   * what is new: on a new machine with only the owner key, this brings the names back.
   */
  async syncCatalogue(): Promise<SyncResult> {
    this.#running()
    const result = await (this.#catalogueSync as CatalogueSync).sync()
    // Segments whose holders are not connected yet (a new machine knows only its bootstrap peer at
    // first): the next peer to connect may hold them, and a retry a moment later, waiting longer
    // each time, finds those that connected while this sync ran.
    this.#catalogueSynced = result.missing === 0
    clearTimeout(this.#syncRetry)
    this.#syncFailures = result.missing > 0 ? this.#syncFailures + 1 : 0
    if (result.missing > 0 && this.#state === 'running') {
      const delay = backoffDelay(this.#syncFailures - 1, SYNC_RETRY_BASE, SYNC_RETRY_MAX)
      this.#syncRetry = setTimeout(() => void this.#syncQuietly(), delay)
      this.#syncRetry.unref()
    }
    return result
  }

  /** Publishes this device's catalogue changes now (they are published a moment after each change anyway). */
  async publishCatalogue(): Promise<number> {
    this.#running()
    return (this.#catalogueSync as CatalogueSync).publish()
  }

  async #syncQuietly(): Promise<void> {
    if (this.#state !== 'running') return
    try {
      const r = await this.syncCatalogue()
      if (r.ops > 0) this.#logger.info({ ...r }, 'merged catalogue changes of other devices')
    } catch (err) {
      this.#catalogueSynced = false
      this.#logger.warn({ err: String(err) }, 'catalogue sync failed; the next peer or interval retries')
    }
  }

  /** Runs one repair pass now (the interval runs them anyway) and resolves with its result. */
  async repair(): Promise<RepairStatus> {
    this.#running()
    return (this.#repairer as Repairer).run()
  }

  /** Runs one audit round now (every live holder of every object once); undefined when audits are off. */
  async audit(): Promise<AuditStatus | undefined> {
    this.#running()
    return this.#auditor?.round()
  }

  /**
   * Checks every local object chunk by chunk and reports those that no longer verify; also checks
   * the replicas held for others against their commits and removes damaged ones (their owners send
   * them again).
   */
  async verify(): Promise<{
    checked: number
    damaged: string[]
    held: { checked: number; removed: number }
  }> {
    const ctx = this.#running()
    return this.#track(async () => ({ ...(await verifyLocal(ctx)), held: await verifyHeld(ctx) }))
  }

  /** How many chunks gets have read, from the local store and from peers (for metrics and tests). */
  counters(): { chunksRead: number } {
    return { ...this.#counters }
  }

  /** Rebuilds the catalogue from what the store holds (names and holders are lost; repair re-learns holders). */
  async rebuildCatalogue(): Promise<{ objects: number; held: number }> {
    const ctx = this.#running()
    return this.#track(async () => {
      await ctx.catalogue.clearContent()
      const counts = await rebuildCatalogue(this.#store, ctx.catalogue, this.#secrets)
      // The log (kept apart from the tables) knows what the store cannot: names, objects held only
      // by peers, and which local objects are catalogue segments.
      await ctx.catalogue.putLogged([...ctx.log.state.objects().values()])
      for (const cid of ctx.catalogue.segmentCids()) await ctx.catalogue.markCatalogueSegment(cid)
      this.#held.load(ctx.catalogue)
      return counts
    })
  }

  #info(rec: ObjectRecord, local: boolean): ObjectInfo {
    const live = new Set(this.#liveIds())
    return {
      cid: rec.cid,
      size: rec.size,
      names: rec.names,
      created: rec.created,
      local,
      wanted: rec.shared ? 0 : wantedReplicas(rec.replication, live.size),
      holders: rec.holders.map((nodeId) => {
        const provenAt = rec.proven?.[nodeId]
        const damagedAt = rec.damaged?.[nodeId]
        const auditedAt = rec.audited?.[nodeId]
        return {
          nodeId,
          live: live.has(nodeId),
          ...(provenAt !== undefined && { provenAt }),
          ...(damagedAt !== undefined && { damagedAt }),
          ...(auditedAt !== undefined && { auditedAt }),
        }
      }),
      shared: rec.shared,
      refusals: rec.refusals ?? [],
      failedAudits: Object.entries(rec.auditFailed ?? {}).map(([nodeId, f]) => ({ nodeId, ...f })),
    }
  }

  #resolveRef(ref: string): ObjectRef {
    if (isCapability(ref)) {
      const cap = decodeCapability(ref)
      const shared = cap.ownerId !== this.ownerId
      // Our own capability: the owner key opens every upload, so the node needs no key from it.
      return { ...cap, objectKey: shared ? cap.objectKey : undefined, shared }
    }
    const cid = assertId('cid', ref)
    const rec = this.#catalogue?.getObject(cid)
    if (rec?.shared && rec.ownerId && rec.locator && rec.objectKey) {
      return {
        cid,
        ownerId: rec.ownerId,
        locator: rec.locator,
        objectKey: rec.objectKey,
        size: rec.size,
        shared: true,
      }
    }
    return {
      cid,
      ownerId: this.ownerId,
      locator: locatorOf(this.#secrets, cid),
      objectKey: undefined,
      size: this.#catalogue?.getObject(cid)?.size,
      shared: false,
    }
  }

  /** In the background: the local copy failed a check during a get; fetch a good one to replace it. */
  #refetchLocal(cid: string): void {
    const ctx = this.#ctx
    if (!ctx || this.#state !== 'running') return
    void this.#track(async (signal) => {
      const res = await this.#getter.get(
        ctx,
        this.#resolveRef(cid),
        { signal, skipLocal: true },
        this.#replication,
        this.#getTuning,
      )
      for await (const _ of res.stream) {
        // drained: the get caches the verified replica as it streams
      }
      ctx.logger.info({ cid, source: res.source }, 'replaced a damaged local copy')
    }).catch((err: unknown) =>
      this.#logger.warn({ cid, err: String(err) }, 'replacing a damaged local copy failed'),
    )
  }

  /** In the background, tracked so that stop() waits for it or aborts it. */
  #heal(cid: string, holders: string[]): void {
    const ctx = this.#ctx
    if (!ctx || this.#state !== 'running') return
    void this.#track((signal) => healReplicas(ctx, cid, holders, signal)).catch((err: unknown) =>
      this.#logger.warn({ cid, holders, err: String(err) }, 'healing bad replicas failed'),
    )
  }

  #liveIds(): string[] {
    const ctx = this.#ctx
    return ctx ? livePeers(ctx) : []
  }

  #running(): ServerContext {
    if (this.#state !== 'running' || !this.#ctx) throw new NotRunningError(this.#state)
    return this.#ctx
  }

  /** Stores a record of the catalogue (a log segment, a snapshot's tree) as an internal object. */
  async #putInternal(bytes: Uint8Array): Promise<{ cid: string; replicas: number }> {
    const ctx = this.#running()
    const opts = { signal: this.#lifetime.signal, internal: true }
    const put = await putObject(
      ctx,
      this.#deleter as Deleter,
      bytes,
      opts,
      this.#replication,
      this.#putTuning,
    )
    return { cid: put.cid, replicas: put.replicas.length }
  }

  /** Reads a record of the catalogue back by cid, from here or the network, at most `max` bytes. */
  async #readInternal(cid: string, max: number): Promise<Uint8Array> {
    const ctx = this.#running()
    const target = this.#resolveRef(cid)
    const got = await this.#getter.get(
      ctx,
      target,
      { signal: this.#lifetime.signal },
      this.#replication,
      this.#getTuning,
    )
    return readAtMost(got.stream, max)
  }

  /** Keeps `work` (a request being served, or a write one started) until it settles: stop waits for it. */
  #serve<T>(work: Promise<T>): Promise<T> {
    this.#serving.add(work)
    const done = (): void => {
      this.#serving.delete(work)
    }
    work.then(done, done)
    return work
  }

  async #track<T>(
    fn: (signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
    scope: 'promise' | 'result' = 'result',
  ): Promise<T> {
    // Work that ends with its promise (a put) unhooks its signal from the lifetime then; work that
    // hands out a stream (a get) keeps it linked for as long as the stream may read.
    const linked =
      signal && scope === 'promise' ? new LinkedAbort([signal, this.#lifetime.signal]) : undefined
    const combined =
      linked?.signal ?? (signal ? AbortSignal.any([signal, this.#lifetime.signal]) : this.#lifetime.signal)
    const p = fn(combined)
    this.#inflight.add(p)
    try {
      return await p
    } finally {
      this.#inflight.delete(p)
      linked?.release()
    }
  }

  readonly #onPeer = (peer: Peer): void => {
    if (this.#state !== 'running') return
    this.#ctx?.members.noteUp(peer.nodeId)
    this.#repairer?.noteUp(peer.nodeId)
    this.#discovery?.onPeer(peer)
    this.#catalogueSync?.notePeer()
    // The first peer of this run: other devices' changes (or, on a new machine, the whole catalogue);
    // again at the next peer while a sync could not read every segment.
    if (!this.#catalogueSynced) {
      this.#catalogueSynced = true
      setImmediate(() => void this.#syncQuietly())
    }
    void this.#deleter
      ?.onPeer(peer)
      .catch((err) => this.#logger.warn({ err: String(err) }, 'resending deletes failed'))
    this.#traffic.up(peer.nodeId)
    this.emit('peer', peerInfo(peer.nodeId, peer, peer.listenAddr))
  }

  readonly #onPeerClose = (peer: Peer): void => {
    // Another connection to the same node may still be open.
    if (this.#transport.peer(peer.nodeId)) return
    this.#discovery?.onPeerClose(peer)
    this.#repairer?.noteDown(peer.nodeId)
    this.#traffic.down(peer.nodeId)
    this.emit('peer:close', peerInfo(peer.nodeId, undefined, peer.listenAddr))
  }
}

function peerInfo(nodeId: string, peer: Peer | undefined, addr: string | undefined): PeerInfo {
  const info: PeerInfo = { nodeId, addr: addr ?? peer?.listenAddr, connected: peer !== undefined }
  if (peer?.ownerPub) info.ownerId = ownerIdOf(peer.ownerPub)
  return info
}

function snapshotInfo(op: SnapshotOp): SnapshotInfo {
  return { id: op.id, root: op.root, at: op.at, tree: op.tree, files: op.files, bytes: op.bytes }
}

/**
 * The device log from the catalogue's journal. A catalogue from before the log is seeded with one
 * put per name of each of the owner's objects (one without a name for a nameless object), so that
 * everything it lists is in the log that other devices and a restore will read.
 */
async function loadDeviceLog(catalogue: Catalogue): Promise<DeviceLog> {
  // A random device id per catalogue, kept in it: a node whose catalogue was lost writes as a new
  // device, so its new ops can never take the ids of ops it wrote before (still in the network).
  let device = catalogue.syncState<string>('device')
  if (device === undefined) {
    device = randomBytes(8).toString('hex')
    await catalogue.setSyncState({ device })
  }
  const state = new CatalogueState()
  for (const op of catalogue.journalOps()) state.apply(op)
  const log = new DeviceLog(device, state)
  if (state.size > 0) return log
  const seeded: CatalogueOp[] = []
  for (const rec of catalogue.objects()) {
    if (rec.shared) continue
    const names: (string | undefined)[] = rec.names.length > 0 ? rec.names : [undefined]
    for (const name of names) {
      seeded.push(log.put({ cid: rec.cid, size: rec.size, replication: rec.replication, name }))
    }
  }
  await catalogue.putLogged([], seeded)
  return log
}

/** A stream's bytes, refused past `max` (a segment is small; a larger object is not one). */
async function readAtMost(stream: AsyncIterable<Uint8Array>, max: number): Promise<Buffer> {
  const parts: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    size += chunk.byteLength
    if (size > max) throw new ObjectTooLargeError(max)
    parts.push(Buffer.from(chunk))
  }
  return Buffer.concat(parts)
}
