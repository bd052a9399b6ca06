import type { Catalogue } from './catalogue.js'
import type { Logger } from './logger.js'
import type { PeerBookOptions } from './options.js'
import { verifyPeerRecord } from './peer-record.js'
import type { PeerRecord } from './protocol/messages.js'

/** A node in the peer book. */
export interface BookEntry {
  readonly nodeId: string
  /** Where to dial it: the first address of its record, or the address it was reached at. */
  addr: string
  /** Its signed record, when one reached this node. */
  record: PeerRecord | undefined
  /** A handshake with this node id completed at `addr`. */
  verified: boolean
  /** The node id that told us of a gossip-only record (the node itself for an address from its hello). */
  from: string
  /** When it was last connected (at connect and at disconnect), in ms; 0 if never. */
  lastSeen: number
  /** Dials that failed since it was last connected. */
  failures: number
}

export interface PeerBookDeps {
  catalogue: Catalogue
  logger: Logger
  options: Required<PeerBookOptions>
  /** True while a connection to the node is open: such an entry is not dropped to make room. */
  connected(nodeId: string): boolean
}

/**
 * Two tiers. Verified peers (a handshake at their address) are kept up to `maxVerified`, written to
 * the catalogue and reloaded at start, and leave only once `verifiedFailures` dials in a row failed
 * and they went unseen for `verifiedMaxAge`. Gossip-only records (anyone can mint a node id and sign
 * any address) are kept in memory up to `maxUnverified`: a full tier drops one to take the next, so
 * a newcomer is never refused, and a record leaves after `unverifiedFailures` failed dials.
 */
export class PeerBook {
  readonly #d: PeerBookDeps
  readonly #verified = new Map<string, BookEntry>()
  /** In the order they came: the first is the oldest. */
  readonly #unverified = new Map<string, BookEntry>()
  /** Gossip-only records per node id that told us of them. */
  readonly #told = new Map<string, number>()
  #closed = false

  constructor(deps: PeerBookDeps) {
    this.#d = deps
  }

  /**
   * Reloads the verified peers written before, most recently seen first, up to the cap. Rows from
   * before the tiers (or over the cap) come back as gossip-only, at most `maxUnverified`, and leave
   * the disk: only a dial that reaches them writes them again.
   */
  load(now = Date.now()): void {
    const { catalogue, options } = this.#d
    const rows = [...catalogue.peers()].sort((a, b) => b.lastSeen - a.lastSeen)
    const leave: string[] = []
    for (const row of rows) {
      const addr = row.addrs[0]
      const record = row.record && verifyPeerRecord(row.record) ? row.record : undefined
      const entry: BookEntry = {
        nodeId: row.nodeId,
        addr: addr ?? '',
        record,
        verified: false,
        from: '',
        lastSeen: row.lastSeen,
        failures: row.failures ?? 0,
      }
      if (addr && row.verified && this.#verified.size < options.maxVerified && !this.#expired(entry, now)) {
        entry.verified = true
        this.#verified.set(entry.nodeId, entry)
        continue
      }
      leave.push(row.nodeId)
      if (addr && !this.#expired(entry, now)) this.#addUnverified(entry)
    }
    this.#write(() => catalogue.removePeers(leave))
  }

  /** Writes nothing more: the catalogue is about to close. */
  close(): void {
    this.#closed = true
  }

  get(nodeId: string): BookEntry | undefined {
    return this.#verified.get(nodeId) ?? this.#unverified.get(nodeId)
  }

  ids(): string[] {
    return [...this.#verified.keys(), ...this.#unverified.keys()]
  }

  counts(): { verified: number; unverified: number } {
    return { verified: this.#verified.size, unverified: this.#unverified.size }
  }

  verifiedEntries(): IterableIterator<BookEntry> {
    return this.#verified.values()
  }

  unverifiedEntries(): IterableIterator<BookEntry> {
    return this.#unverified.values()
  }

  /** How many gossip-only records a node id told us of. */
  toldBy(from: string): number {
    return this.#told.get(from) ?? 0
  }

  /** The records this node passes on: verified peers' only, so a fake record goes no further than the peer it was sent to. */
  gossipable(): PeerRecord[] {
    const out: PeerRecord[] = []
    for (const e of this.#verified.values()) if (e.record) out.push(e.record)
    return out
  }

  /**
   * Takes a signed record (checked by the caller, newer than the one kept). A verified peer that
   * moved to another address while not connected goes back to gossip-only until reached there.
   */
  learn(rec: PeerRecord, from: string): void {
    const addr = rec.addrs[0] as string
    const known = this.get(rec.nodeId)
    if (!known) {
      this.#addUnverified({
        nodeId: rec.nodeId,
        addr,
        record: rec,
        verified: false,
        from,
        lastSeen: 0,
        failures: 0,
      })
      return
    }
    known.record = rec
    if (known.addr === addr || this.#d.connected(rec.nodeId)) {
      if (known.verified) this.#save(known)
      return
    }
    if (known.verified) {
      this.#verified.delete(known.nodeId)
      this.#write(() => this.#d.catalogue.removePeers([known.nodeId]))
      known.from = from
      known.addr = addr
      known.failures = 0
      this.#addUnverified(known)
      return
    }
    known.addr = addr
    known.failures = 0
  }

  /** An address a connected node announced but was not reached at: kept gossip-only until it is. */
  heard(nodeId: string, addr: string, now: number): void {
    const known = this.get(nodeId)
    if (known && !known.verified) known.addr = addr
    if (known) {
      this.seen(nodeId, now)
      return
    }
    this.#addUnverified(unheardOf(nodeId, addr, now))
  }

  /**
   * A handshake with `nodeId` completed at `addr`. A full verified tier makes room only by dropping
   * a peer that is not connected and whose last dial failed (the one seen longest ago); else the
   * node stays gossip-only.
   */
  verify(nodeId: string, addr: string, now: number): void {
    const known = this.get(nodeId)
    const entry: BookEntry = known ?? unheardOf(nodeId, addr, now)
    entry.addr = addr
    entry.lastSeen = now
    entry.failures = 0
    if (entry.verified) {
      this.#save(entry)
      return
    }
    if (known) this.#removeUnverified(known)
    if (this.#verified.size >= this.#d.options.maxVerified && !this.#dropFailedVerified()) {
      this.#addUnverified(entry)
      return
    }
    entry.verified = true
    this.#verified.set(nodeId, entry)
    this.#save(entry)
  }

  /** Connected or disconnected just now. */
  seen(nodeId: string, now: number): void {
    const entry = this.get(nodeId)
    if (!entry) return
    entry.lastSeen = now
    entry.failures = 0
    if (entry.verified) this.#save(entry)
  }

  /** A dial of the node failed; resolves true when that dropped it from the book. */
  failed(nodeId: string, now: number): boolean {
    const entry = this.get(nodeId)
    if (!entry) return false
    entry.failures++
    if (!entry.verified) {
      if (entry.failures < this.#d.options.unverifiedFailures) return false
      this.#removeUnverified(entry)
      return true
    }
    if (!this.#expired(entry, now)) {
      this.#save(entry)
      return false
    }
    this.#verified.delete(nodeId)
    this.#write(() => this.#d.catalogue.removePeers([nodeId]))
    return true
  }

  #expired(entry: BookEntry, now: number): boolean {
    const { verifiedFailures, verifiedMaxAge } = this.#d.options
    return entry.failures >= verifiedFailures && now - entry.lastSeen >= verifiedMaxAge
  }

  #dropFailedVerified(): boolean {
    let oldest: BookEntry | undefined
    for (const e of this.#verified.values()) {
      if (e.failures === 0 || this.#d.connected(e.nodeId)) continue
      if (!oldest || e.lastSeen < oldest.lastSeen) oldest = e
    }
    if (!oldest) return false
    const { nodeId } = oldest
    this.#verified.delete(nodeId)
    this.#write(() => this.#d.catalogue.removePeers([nodeId]))
    return true
  }

  #addUnverified(entry: BookEntry): void {
    const max = this.#d.options.maxUnverified
    if (max === 0) return
    while (this.#unverified.size >= max) this.#dropUnverified()
    entry.verified = false
    this.#unverified.set(entry.nodeId, entry)
    this.#told.set(entry.from, this.toldBy(entry.from) + 1)
  }

  /**
   * Makes room: drops a record told by the node id that told us of the most, the one whose dials
   * failed most, else the oldest. A peer with many identities thus crowds out mostly its own records.
   */
  #dropUnverified(): void {
    let teller = ''
    let most = 0
    for (const [from, n] of this.#told) {
      if (n > most) {
        most = n
        teller = from
      }
    }
    let drop: BookEntry | undefined
    for (const e of this.#unverified.values()) {
      if (e.from !== teller || this.#d.connected(e.nodeId)) continue
      if (!drop || e.failures > drop.failures) drop = e
    }
    drop ??= this.#unverified.values().next().value as BookEntry
    this.#removeUnverified(drop)
  }

  #removeUnverified(entry: BookEntry): void {
    if (!this.#unverified.delete(entry.nodeId)) return
    const n = this.toldBy(entry.from) - 1
    if (n > 0) this.#told.set(entry.from, n)
    else this.#told.delete(entry.from)
  }

  #save(entry: BookEntry): void {
    const { nodeId, addr, record, lastSeen, failures } = entry
    this.#write(() =>
      this.#d.catalogue.putPeer({ nodeId, addrs: [addr], record, lastSeen, verified: true, failures }),
    )
  }

  /** The peer book is a cache: a failed write is logged and forgotten. */
  #write(op: () => Promise<void>): void {
    if (this.#closed) return
    op().catch((err: unknown) => this.#d.logger.debug({ err: String(err) }, 'peer book write failed'))
  }
}

/** A book entry for a node met directly, not through gossip: no record, told of by itself. */
function unheardOf(nodeId: string, addr: string, now: number): BookEntry {
  return { nodeId, addr, record: undefined, verified: false, from: nodeId, lastSeen: now, failures: 0 }
}
