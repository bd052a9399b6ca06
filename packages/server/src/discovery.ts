import type { Peer, Transport } from '@cas/p2p'
import type { Catalogue } from './catalogue.js'
import { RateLimitedError } from './errors.js'
import type { Logger } from './logger.js'
import { copyRecord, type PeerRecordSigner, verifyPeerRecord } from './peer-record.js'
import { exchangeGossip } from './protocol/gossip.js'
import { MAX_GOSSIP_RECORDS, type PeerRecord } from './protocol/messages.js'

export interface DiscoveryOptions {
  transport: Transport
  catalogue: Catalogue
  signer: PeerRecordSigner | undefined
  logger: Logger
  bootstrap: string[]
  maxPeers: number
  gossipInterval: number
  fanout: number
  perSource: number
  maxRecords: number
  requestTimeout: number
}

const MAX_BACKOFF = 60_000

/**
 * Finds peers: dials the bootstrap addresses, then swaps signed peer records
 * with each new connection and with a few peers every interval, and dials
 * what it learns (up to maxPeers). Newer `seq` wins for a node id.
 */
export class Discovery {
  readonly #o: DiscoveryOptions
  readonly #records = new Map<string, PeerRecord>()
  readonly #seenAddr = new Map<string, string>()
  readonly #rate = new Map<string, { start: number; count: number }>()
  readonly #backoff = new Map<string, { attempts: number; nextAt: number }>()
  readonly #dialing = new Set<string>()
  /** The node each dialled address led to, so a bootstrap address is not redialled while its node is connected. */
  readonly #reachedAt = new Map<string, string>()
  #self: PeerRecord | undefined
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(options: DiscoveryOptions) {
    this.#o = options
  }

  async start(): Promise<void> {
    for (const entry of this.#o.catalogue.peers()) {
      if (entry.record && verifyPeerRecord(entry.record)) this.#records.set(entry.nodeId, entry.record)
      const addr = entry.addrs[0]
      if (addr) this.#seenAddr.set(entry.nodeId, addr)
    }
    // A start time as seq: a restarted node's record replaces the one it gossiped before.
    this.#self = this.#o.signer?.sign([this.#o.transport.listenAddr], Date.now())
    await Promise.allSettled(this.#o.bootstrap.map((addr) => this.#dialAddr(addr, undefined)))
    this.#timer = setInterval(() => void this.tick(), this.#o.gossipInterval)
    this.#timer.unref()
  }

  stop(): void {
    this.#stopped = true
    clearInterval(this.#timer)
  }

  /** The dialable address known for a node: from its signed record, else from its hello. */
  addrOf(nodeId: string): string | undefined {
    return this.#records.get(nodeId)?.addrs[0] ?? this.#seenAddr.get(nodeId)
  }

  knownIds(): string[] {
    return [...new Set([...this.#records.keys(), ...this.#seenAddr.keys()])]
  }

  /** Called for every new connection, inbound or outbound. */
  onPeer(peer: Peer): void {
    this.#backoff.delete(peer.nodeId)
    if (peer.listenAddr) {
      this.#seenAddr.set(peer.nodeId, peer.listenAddr)
      void this.#persist(peer.nodeId)
    }
    void this.exchange(peer)
  }

  /** Sends our records to a peer and merges the ones it answers with. */
  async exchange(peer: Peer): Promise<void> {
    try {
      const records = await exchangeGossip(peer, this.#sample(peer.nodeId), this.#o.requestTimeout)
      this.#merge(records, peer.nodeId)
    } catch (err) {
      this.#o.logger.debug({ nodeId: peer.nodeId, err: String(err) }, 'gossip exchange failed')
    }
  }

  /** Handles a peer's gossip request; bounded per source and interval. */
  receive(from: Peer, records: PeerRecord[]): PeerRecord[] {
    const now = Date.now()
    const window = this.#rate.get(from.nodeId)
    if (!window || now - window.start >= this.#o.gossipInterval) {
      this.#rate.set(from.nodeId, { start: now, count: 1 })
    } else if (++window.count > this.#o.perSource) {
      // One line per window: a flood of gossip must not become a flood of log lines.
      if (window.count === this.#o.perSource + 1) {
        this.#o.logger.warn(
          { nodeId: from.nodeId, limit: this.#o.perSource, window: this.#o.gossipInterval },
          'refused gossip over the per-source bound',
        )
      }
      throw new RateLimitedError(from.nodeId)
    }
    this.#merge(records, from.nodeId)
    return this.#sample(from.nodeId)
  }

  /** Dials an address (optionally insisting on a node id); resolves with the connected peer. */
  async connect(addr: string, expectNodeId?: string): Promise<Peer> {
    const peer = await this.#o.transport.dial(addr, expectNodeId ? { expectNodeId } : undefined)
    return peer
  }

  async tick(): Promise<void> {
    if (this.#stopped) return
    const connected = this.#o.transport.peers()
    const ids = new Set(connected.map((p) => p.nodeId))
    for (const addr of this.#o.bootstrap) {
      const nodeId = this.#reachedAt.get(addr)
      const reached = (nodeId && ids.has(nodeId)) || connected.some((p) => p.listenAddr === addr)
      if (!reached) void this.#dialAddr(addr, undefined)
    }
    for (const peer of shuffle(connected).slice(0, this.#o.fanout)) void this.exchange(peer)
    for (const rec of this.#records.values()) {
      if (!this.#roomToDial()) break
      if (!ids.has(rec.nodeId) && this.#dueForDial(rec.nodeId)) void this.#dialRecord(rec)
    }
  }

  #merge(records: PeerRecord[], from: string): void {
    const self = this.#o.transport.nodeId
    for (const incoming of records.slice(0, MAX_GOSSIP_RECORDS)) {
      if (incoming.nodeId === self) continue
      const known = this.#records.get(incoming.nodeId)
      if (known && known.seq >= incoming.seq) continue
      if (!known && this.#records.size >= this.#o.maxRecords) continue
      if (!verifyPeerRecord(incoming)) {
        this.#o.logger.warn({ from, nodeId: incoming.nodeId }, 'dropped a peer record with a bad signature')
        continue
      }
      const rec = copyRecord(incoming)
      this.#records.set(rec.nodeId, rec)
      void this.#persist(rec.nodeId)
      if (this.#roomToDial() && !this.#o.transport.peer(rec.nodeId)) void this.#dialRecord(rec)
    }
  }

  #sample(exclude: string): PeerRecord[] {
    const others = shuffle([...this.#records.values()].filter((r) => r.nodeId !== exclude))
    const out = this.#self ? [this.#self] : []
    return out.concat(others.slice(0, MAX_GOSSIP_RECORDS - out.length))
  }

  async #dialRecord(rec: PeerRecord): Promise<void> {
    if (this.#dialing.has(rec.nodeId)) return
    for (const addr of rec.addrs) {
      if (await this.#dialAddr(addr, rec.nodeId)) return
    }
    const b = this.#backoff.get(rec.nodeId) ?? { attempts: 0, nextAt: 0 }
    b.attempts++
    // Exponential backoff with jitter, so a dead node is not hammered by every peer at once.
    b.nextAt = Date.now() + Math.min(MAX_BACKOFF, 1000 * 2 ** b.attempts) * (0.5 + Math.random() / 2)
    this.#backoff.set(rec.nodeId, b)
  }

  /** Dials stop once connected peers plus dials in progress reach maxPeers. */
  #roomToDial(): boolean {
    const connected = new Set(this.#o.transport.peers().map((p) => p.nodeId)).size
    return connected + this.#dialing.size < this.#o.maxPeers
  }

  #dueForDial(nodeId: string): boolean {
    const b = this.#backoff.get(nodeId)
    return !b || Date.now() >= b.nextAt
  }

  async #dialAddr(addr: string, expectNodeId: string | undefined): Promise<boolean> {
    const key = expectNodeId ?? addr
    if (this.#stopped || this.#dialing.has(key)) return false
    this.#dialing.add(key)
    try {
      const peer = await this.connect(addr, expectNodeId)
      this.#reachedAt.set(addr, peer.nodeId)
      return true
    } catch (err) {
      this.#o.logger.debug({ addr, err: String(err) }, 'dial failed')
      return false
    } finally {
      this.#dialing.delete(key)
    }
  }

  async #persist(nodeId: string): Promise<void> {
    const record = this.#records.get(nodeId)
    const addr = this.addrOf(nodeId)
    try {
      await this.#o.catalogue.putPeer({ nodeId, addrs: addr ? [addr] : [], record, lastSeen: Date.now() })
    } catch (err) {
      this.#o.logger.debug({ nodeId, err: String(err) }, 'peer book write failed')
    }
  }
}

function shuffle<T>(items: T[]): T[] {
  const a = [...items]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[a[i], a[j]] = [a[j] as T, a[i] as T]
  }
  return a
}
