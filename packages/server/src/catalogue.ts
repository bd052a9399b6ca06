import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { type Database, open, type RootDatabase } from 'lmdb'
import type { SignedHead } from './catalogue-head.js'
import type { CatalogueOp, LoggedObject } from './catalogue-log.js'
import type { PeerRecord } from './protocol/messages.js'
import type { Refusal, Replication } from './types.js'

/** An object this node put or fetched, keyed by cid. */
export interface ObjectRecord {
  cid: string
  size: number
  names: string[]
  created: number
  replication: Replication
  /** Node ids that acknowledged (or were seen to serve) a replica. */
  holders: string[]
  /** Read through another owner's capability: never replicated from here. */
  shared: boolean
  /** 'catalogue': a segment of the owner's catalogue log, not listed as a file. */
  kind?: 'catalogue' | undefined
  /** The object key of the local copy's upload (format 2): shares and reads need no trip to a holder. */
  objectKey?: Uint8Array | undefined
  /** For an object read through a capability: its owner and locator, so a get by cid finds it again. */
  ownerId?: string | undefined
  locator?: string | undefined
  /** The last refusal of each peer that would not take a replica and has not taken one since. */
  refusals?: Refusal[] | undefined
  /**
   * When each holder last proved its replica good (ms): it acknowledged a store it had checked
   * against the commit, or answered yes to a `has` probe (it holds only replicas it checked, and
   * drops those its serving or scrubbing finds damaged).
   */
  proven?: Record<string, number> | undefined
  /**
   * Holders whose replica served bytes that failed their check (ms when found): the holder drops such
   * a replica, so a later get that finds no copy anywhere says the copies were damaged, not "not found".
   * A holder leaves this list when it proves a replica good again.
   */
  damaged?: Record<string, number> | undefined
  /** When each holder last passed an audit (a random chunk served and checked against the commit). */
  audited?: Record<string, number> | undefined
  /**
   * Holders that failed an audit (ms, and the reason's code): removed from `holders`, so repair
   * replaces their replica elsewhere, and not chosen for this object again unless one passes.
   */
  auditFailed?: Record<string, { at: number; code: string }> | undefined
}

/** The object format this catalogue describes; a catalogue without it holds format 1 data. */
export const CATALOGUE_FORMAT = 2

/** A replica this node holds for an owner, keyed by `<ownerId>/<locator>`. */
export interface HeldRecord {
  /** Bytes of the replica file's content (chunks and trailer). */
  size: number
  /** The commit's issuedAt: an older store or delete is refused. */
  writtenAt: number
  /** SHA-256 of the commit held: a store of another commit with the same issuedAt is refused. */
  digest?: string
}

/** A signed delete that some holders have not yet confirmed, keyed by locator. */
export interface PendingDelete {
  locator: string
  issuedAt: number
  sig: Uint8Array
  /** Node ids still to be told. */
  pending: string[]
}

/**
 * A peer the node reached, as the peer book writes it: its address, its signed record when one was
 * gossiped, when it was last connected and how many dials to it failed since. Only verified peers
 * are written; a row without `verified` was written before the book had tiers.
 */
export interface PeerBookEntry {
  nodeId: string
  addrs: string[]
  record: PeerRecord | undefined
  lastSeen: number
  verified?: boolean
  failures?: number
}

/**
 * The node's catalogue in LMDB: objects, names, replicas held for others and
 * the peer book, each in its own named database so one transaction spans them.
 */
export class Catalogue {
  readonly #root: RootDatabase
  readonly #objects: Database<ObjectRecord, string>
  readonly #names: Database<string, string>
  readonly #held: Database<HeldRecord, string>
  readonly #peers: Database<PeerBookEntry, string>
  readonly #tombstones: Database<number, string>
  readonly #pendingDeletes: Database<PendingDelete, string>
  readonly #meta: Database<number, string>
  readonly #journal: Database<CatalogueOp, string>
  readonly #heads: Database<SignedHead, string>
  readonly #sync: Database<unknown, string>

  private constructor(root: RootDatabase) {
    this.#root = root
    this.#objects = root.openDB<ObjectRecord, string>({ name: 'objects' })
    this.#names = root.openDB<string, string>({ name: 'names' })
    this.#held = root.openDB<HeldRecord, string>({ name: 'held' })
    this.#peers = root.openDB<PeerBookEntry, string>({ name: 'peers' })
    this.#tombstones = root.openDB<number, string>({ name: 'tombstones' })
    this.#pendingDeletes = root.openDB<PendingDelete, string>({ name: 'pending-deletes' })
    this.#meta = root.openDB<number, string>({ name: 'meta' })
    this.#journal = root.openDB<CatalogueOp, string>({ name: 'journal' })
    this.#heads = root.openDB<SignedHead, string>({ name: 'heads' })
    this.#sync = root.openDB<unknown, string>({ name: 'catalogue-sync' })
  }

  /**
   * Runs a write transaction and resolves only once it is on disk. lmdb-js resolves a write at its commit and flushes after (overlappingSync), so an
   * OS crash could otherwise roll back a record whose put, store or delete was acknowledged. Writes
   * issued together share one commit and one flush.
   */
  async #durably<T>(body: () => T): Promise<T> {
    const result = await this.#root.transaction(body)
    await this.#root.flushed
    return result
  }

  /**
   * The object format of what this catalogue lists: its recorded format, or 1 for a catalogue
   * written before formats were recorded that lists anything, or undefined for a new one.
   */
  format(): number | undefined {
    const recorded = this.#meta.get('format')
    if (recorded !== undefined) return recorded
    return this.isEmpty() ? undefined : 1
  }

  async setFormat(format: number): Promise<void> {
    await this.#durably(() => {
      this.#meta.put('format', format)
    })
  }

  static async open(dir: string): Promise<Catalogue> {
    await mkdir(dir, { recursive: true })
    return new Catalogue(open({ path: join(dir, 'catalogue.lmdb'), maxDbs: 16, compression: false }))
  }

  async close(): Promise<void> {
    await this.#root.close()
  }

  getObject(cid: string): ObjectRecord | undefined {
    return this.#objects.get(cid)
  }

  *objects(): Iterable<ObjectRecord> {
    for (const { value } of this.#objects.getRange()) yield value
  }

  objectCount(): number {
    return this.#objects.getCount()
  }

  /** No objects and no held replicas: a new node, or a catalogue lost and worth rebuilding. */
  isEmpty(): boolean {
    return this.#objects.getCount() === 0 && this.#held.getCount() === 0
  }

  /** A catalogue head this node holds for an owner (any owner's: heads are held like replicas). */
  getHead(ownerId: string, headId: string): SignedHead | undefined {
    return this.#heads.get(`${ownerId}/${headId}`)
  }

  /** The heads held for one owner. */
  headsOf(ownerId: string): SignedHead[] {
    const out: SignedHead[] = []
    // Owner ids are hex: every key of this owner sorts between `<ownerId>/` and `<ownerId>0`.
    for (const { value } of this.#heads.getRange({ start: `${ownerId}/`, end: `${ownerId}0` }))
      out.push(value)
    return out
  }

  /** Every head held, for accounting at start. */
  *heads(): Iterable<SignedHead> {
    for (const { value } of this.#heads.getRange()) yield value
  }

  async putHead(head: SignedHead): Promise<void> {
    await this.#durably(() => {
      this.#heads.put(`${head.ownerId}/${head.headId}`, head)
    })
  }

  /** What this device's catalogue sync keeps between runs (its own head, segments applied, …). */
  syncState<T>(key: string): T | undefined {
    return this.#sync.get(key) as T | undefined
  }

  /** The cids of the catalogue segments this device wrote or applied. */
  *segmentCids(): Iterable<string> {
    for (const key of this.#sync.getKeys({ start: 'seg/', end: 'seg0' })) yield key.slice('seg/'.length)
  }

  async setSyncState(entries: Record<string, unknown>): Promise<void> {
    await this.#durably(() => {
      for (const [key, value] of Object.entries(entries)) this.#sync.put(key, value)
    })
  }

  /** The owner's catalogue log as this node has it (its own ops and, later, other devices'). */
  *journalOps(): Iterable<CatalogueOp> {
    for (const { value } of this.#journal.getRange()) yield value
  }

  /**
   * Adds or merges an object record, and points each of its names at it; `ops` (this device's put
   * of it) go to the log in the same transaction, so the log never lacks what the tables list. With
   * `replicas`, what sending its replicas came to is recorded in the same transaction too (see
   * recordReplicas), and the refusals not already on record are resolved.
   */
  async putObject(
    rec: ObjectRecord,
    ops: readonly CatalogueOp[] = [],
    replicas?: ReplicaOutcome,
    at = Date.now(),
  ): Promise<Refusal[]> {
    return this.#durably(() => {
      for (const op of ops) this.#journal.put(op.id, op)
      const prev = this.#objects.get(rec.cid)
      const merged: ObjectRecord = prev
        ? {
            ...prev,
            names: [...new Set([...prev.names, ...rec.names])],
            holders: [...new Set([...prev.holders, ...rec.holders])],
            replication: rec.shared ? prev.replication : rec.replication,
            shared: prev.shared && rec.shared,
            objectKey: rec.objectKey ?? prev.objectKey,
            ownerId: rec.ownerId ?? prev.ownerId,
            locator: rec.locator ?? prev.locator,
          }
        : rec
      for (const name of rec.names) this.#names.put(name, rec.cid)
      if (!replicas) {
        this.#objects.put(rec.cid, merged)
        return []
      }
      const { record, fresh } = withReplicas(merged, replicas, at)
      this.#objects.put(rec.cid, record)
      return fresh
    })
  }

  /**
   * Sets objects' records to what the merged log lists (their names exactly, not merged with the
   * old ones), creating them for objects another device put, and points each name at its object;
   * `ops` go to the log in the same transaction (alone, as when an older catalogue is seeded).
   */
  async putLogged(objs: readonly LoggedObject[], ops: readonly CatalogueOp[] = []): Promise<void> {
    if (objs.length === 0 && ops.length === 0) return
    await this.#durably(() => {
      for (const op of ops) this.#journal.put(op.id, op)
      for (const obj of objs) {
        const prev = this.#objects.get(obj.cid)
        for (const name of prev?.names ?? []) {
          if (!obj.names.includes(name) && this.#names.get(name) === obj.cid) this.#names.remove(name)
        }
        this.#objects.put(
          obj.cid,
          prev
            ? { ...prev, names: obj.names }
            : {
                cid: obj.cid,
                size: obj.size,
                names: obj.names,
                created: obj.created,
                replication: obj.replication,
                holders: [],
                shared: false,
              },
        )
        for (const name of obj.names) this.#names.put(name, obj.cid)
      }
    })
  }

  /** Marks an object (fetched by cid) as a segment of the catalogue log. */
  async markCatalogueSegment(cid: string): Promise<void> {
    await this.#durably(() => {
      const prev = this.#objects.get(cid)
      if (prev && prev.kind !== 'catalogue') this.#objects.put(cid, { ...prev, kind: 'catalogue', names: [] })
    })
  }

  /**
   * Records what sending replicas of `cid` came to, in one durable write (none when there is nothing
   * to record): the holders that took one, added to its holders (or, with `replace`, its holders
   * from now on) and proven now; the peers that refused or failed; the refusals of peers that took
   * one forgotten. Resolves with the refusals not already on record (same peer, same code), so that
   * each is reported once.
   */
  async recordReplicas(cid: string, outcome: ReplicaOutcome, at = Date.now()): Promise<Refusal[]> {
    const { holders, replace = false, proven, failed } = outcome
    const known = this.#objects.get(cid)
    if (!known) return []
    if (
      !replace &&
      holders.length === 0 &&
      proven.length === 0 &&
      failed.length === 0 &&
      !known.refusals?.length
    ) {
      return []
    }
    return this.#durably(() => {
      const prev = this.#objects.get(cid)
      if (!prev) return []
      const { record, fresh } = withReplicas(prev, outcome, at)
      this.#objects.put(cid, record)
      return fresh
    })
  }

  /** Records, per cid, the holders that proved their replica good now. */
  async markProven(byCid: Map<string, Set<string>>, at = Date.now()): Promise<void> {
    if ([...byCid.values()].every((s) => s.size === 0)) return
    await this.#durably(() => {
      for (const [cid, nodeIds] of byCid) {
        const prev = this.#objects.get(cid)
        if (!prev || nodeIds.size === 0) continue
        const proven = { ...prev.proven }
        const damaged = { ...prev.damaged }
        for (const nodeId of nodeIds) {
          proven[nodeId] = at
          delete damaged[nodeId]
        }
        this.#objects.put(cid, { ...prev, proven, damaged })
      }
    })
  }

  /**
   * Records an audit of `nodeId`'s replica of `cid`. Passed: it is proven good now. Failed: it stops
   * being a holder of `cid` (see ObjectRecord.auditFailed).
   */
  async recordAudit(
    cid: string,
    nodeId: string,
    result: { passed: true; at: number } | { passed: false; at: number; code: string },
  ): Promise<void> {
    await this.#durably(() => {
      const prev = this.#objects.get(cid)
      if (!prev) return
      const auditFailed = { ...prev.auditFailed }
      if (result.passed) {
        delete auditFailed[nodeId]
        const damaged = { ...prev.damaged }
        delete damaged[nodeId]
        this.#objects.put(cid, {
          ...prev,
          audited: { ...prev.audited, [nodeId]: result.at },
          proven: { ...prev.proven, [nodeId]: result.at },
          damaged,
          auditFailed,
        })
      } else {
        auditFailed[nodeId] = { at: result.at, code: result.code }
        this.#objects.put(cid, { ...prev, holders: prev.holders.filter((h) => h !== nodeId), auditFailed })
      }
    })
  }

  /** Records that these holders served damaged bytes of `cid` (see ObjectRecord.damaged). */
  async markDamaged(cid: string, nodeIds: string[], at = Date.now()): Promise<void> {
    if (nodeIds.length === 0) return
    await this.#durably(() => {
      const prev = this.#objects.get(cid)
      if (!prev) return
      const damaged = { ...prev.damaged }
      for (const nodeId of nodeIds) damaged[nodeId] = at
      this.#objects.put(cid, { ...prev, damaged })
    })
  }

  async removeObject(cid: string, ops: readonly CatalogueOp[] = []): Promise<boolean> {
    return this.#durably(() => {
      for (const op of ops) this.#journal.put(op.id, op)
      const prev = this.#objects.get(cid)
      if (!prev) return false
      for (const name of prev.names) if (this.#names.get(name) === cid) this.#names.remove(name)
      this.#objects.remove(cid)
      return true
    })
  }

  resolveName(name: string): string | undefined {
    return this.#names.get(name)
  }

  /** Up to `limit` objects whose cid starts with `prefix` (lowercase hex), in cid order. */
  cidsWithPrefix(prefix: string, limit: number): string[] {
    const out: string[] = []
    // Keys are lowercase hex: every key with the prefix sorts between it and the prefix followed by 'g'.
    for (const key of this.#objects.getKeys({ start: prefix, end: `${prefix}g`, limit })) out.push(key)
    return out
  }

  getHeld(ownerId: string, locator: string): HeldRecord | undefined {
    return this.#held.get(`${ownerId}/${locator}`)
  }

  *held(): Iterable<{ ownerId: string; locator: string; rec: HeldRecord }> {
    for (const { key, value } of this.#held.getRange()) {
      const [ownerId = '', locator = ''] = key.split('/')
      yield { ownerId, locator, rec: value }
    }
  }

  async putHeld(ownerId: string, locator: string, rec: HeldRecord): Promise<void> {
    await this.#durably(() => {
      this.#held.put(`${ownerId}/${locator}`, rec)
    })
  }

  async removeHeld(ownerId: string, locator: string): Promise<void> {
    await this.#durably(() => {
      this.#held.remove(`${ownerId}/${locator}`)
    })
  }

  /** When the owner last deleted this replica (its clock), so an older store cannot bring it back. */
  getTombstone(ownerId: string, locator: string): number | undefined {
    return this.#tombstones.get(`${ownerId}/${locator}`)
  }

  async putTombstone(ownerId: string, locator: string, deletedAt: number): Promise<void> {
    const key = `${ownerId}/${locator}`
    await this.#durably(() => {
      this.#tombstones.put(key, Math.max(deletedAt, this.#tombstones.get(key) ?? 0))
    })
  }

  getPendingDelete(locator: string): PendingDelete | undefined {
    return this.#pendingDeletes.get(locator)
  }

  *pendingDeletes(): Iterable<PendingDelete> {
    for (const { value } of this.#pendingDeletes.getRange()) yield value
  }

  async putPendingDelete(entry: PendingDelete): Promise<void> {
    await this.#durably(() => {
      if (entry.pending.length === 0) this.#pendingDeletes.remove(entry.locator)
      else this.#pendingDeletes.put(entry.locator, entry)
    })
  }

  async removePendingDelete(locator: string): Promise<void> {
    // Most puts follow no delete: no write (and no flush) for them.
    if (this.#pendingDeletes.get(locator) === undefined) return
    await this.#durably(() => {
      this.#pendingDeletes.remove(locator)
    })
  }

  getPeer(nodeId: string): PeerBookEntry | undefined {
    return this.#peers.get(nodeId)
  }

  *peers(): Iterable<PeerBookEntry> {
    for (const { value } of this.#peers.getRange()) yield value
  }

  /** Not flushed before it resolves: the peer book is a cache that gossip and dials refill. */
  async putPeer(entry: PeerBookEntry): Promise<void> {
    await this.#peers.put(entry.nodeId, entry)
  }

  /** Not flushed before it resolves, as putPeer. */
  async removePeers(nodeIds: string[]): Promise<void> {
    if (nodeIds.length === 0) return
    await this.#root.transaction(() => {
      for (const nodeId of nodeIds) this.#peers.remove(nodeId)
    })
  }

  /** Empties the object, name and held tables (the peer book stays), before a rebuild. */
  async clearContent(): Promise<void> {
    await this.#durably(() => {
      for (const { key } of this.#objects.getRange()) this.#objects.remove(key)
      for (const { key } of this.#names.getRange()) this.#names.remove(key)
      for (const { key } of this.#held.getRange()) this.#held.remove(key)
    })
  }
}

/** `holders` once each, less those that failed an audit of the object (a pass that read it earlier may list them). */
function trusted(rec: ObjectRecord, holders: string[]): string[] {
  return [...new Set(holders)].filter((h) => rec.auditFailed?.[h] === undefined)
}

/** What sending replicas of an object came to (Catalogue.recordReplicas). */
export interface ReplicaOutcome {
  holders: string[]
  replace?: boolean
  proven: string[]
  failed: Omit<Refusal, 'at'>[]
}

/** `prev` with a replica outcome applied, and the refusals in it not already on record. */
function withReplicas(
  prev: ObjectRecord,
  outcome: ReplicaOutcome,
  at: number,
): { record: ObjectRecord; fresh: Refusal[] } {
  const { holders, replace = false, proven, failed } = outcome
  const before = prev.refusals ?? []
  const fresh = failed.filter((f) => !before.some((b) => b.nodeId === f.nodeId && b.code === f.code))
  const gone = new Set([...holders, ...proven, ...failed.map((f) => f.nodeId)])
  const refusals = [...before.filter((b) => !gone.has(b.nodeId)), ...failed.map((f) => ({ ...f, at }))]
  const provenAt = { ...prev.proven }
  const damaged = { ...prev.damaged }
  for (const nodeId of proven) {
    provenAt[nodeId] = at
    delete damaged[nodeId]
  }
  const record: ObjectRecord = {
    ...prev,
    holders: trusted(prev, replace ? holders : [...prev.holders, ...holders]),
    proven: provenAt,
    damaged,
    ...((refusals.length > 0 || before.length > 0) && { refusals }),
  }
  return { record, fresh: fresh.map((f) => ({ ...f, at })) }
}
