import type { Peer, Transport } from '@cas/p2p'
import type { Catalogue } from './catalogue.js'
import { DialBudget, dialBackoff, hostOf } from './dial-budget.js'
import { errorCode, RateLimitedError } from './errors.js'
import type { Logger } from './logger.js'
import type { PeerBookOptions } from './options.js'
import { type BookEntry, PeerBook } from './peer-book.js'
import type { FoundPeer } from './peer-finder.js'
import { copyRecord, type PeerRecordSigner, verifyPeerRecord } from './peer-record.js'
import { exchangeGossip } from './protocol/gossip.js'
import { MAX_GOSSIP_RECORDS, type PeerRecord } from './protocol/messages.js'

/** Gossip-only records in each gossip message, beside the verified ones. */
const RELAYED_UNVERIFIED = 8
/** Records waiting to be passed on, at most (a flood of new records is passed on only in part). */
const MAX_NEWS = 4 * MAX_GOSSIP_RECORDS
/** How long news waits before it is passed on, in ms: news arriving together goes in one exchange. */
const SPREAD_DELAY = 100

export interface DiscoveryOptions {
  transport: Transport
  catalogue: Catalogue
  signer: PeerRecordSigner | undefined
  logger: Logger
  bootstrap: string[]
  /** Discovery dials while fewer than this many nodes are connected (the pool's low watermark). */
  minPeers: number
  gossipInterval: number
  fanout: number
  perSource: number
  book: Required<PeerBookOptions>
  requestTimeout: number
  /** Called at each gossip round (the connection pool is trimmed then). */
  onRound?: () => void
}

/**
 * Finds peers: dials the bootstrap addresses, then swaps signed peer records
 * with each new connection and with a few peers every interval, and dials
 * what it learns while fewer than minPeers are connected. Newer `seq` wins for a node id. What it
 * learns goes to the peer book's gossip-only tier and is dialled within the
 * dial budget; a peer reached at its address moves to the verified tier.
 */
export class Discovery {
  readonly #o: DiscoveryOptions
  readonly #book: PeerBook
  readonly #budget: DialBudget
  readonly #rate = new Map<string, { start: number; count: number }>()
  readonly #backoff = new Map<string, { attempts: number; nextAt: number }>()
  readonly #dialing = new Set<string>()
  /** The node each dialled address led to, so a bootstrap address is not redialled while its node is connected. */
  readonly #reachedAt = new Map<string, string>()
  #self: PeerRecord | undefined
  #timer: NodeJS.Timeout | undefined
  #spreadTimer: NodeJS.Timeout | undefined
  /** Records learnt since the last spread: passed on as they are, each once by this node. */
  readonly #news: PeerRecord[] = []
  #stopped = false

  constructor(options: DiscoveryOptions) {
    this.#o = options
    this.#book = new PeerBook({
      catalogue: options.catalogue,
      logger: options.logger,
      options: options.book,
      connected: (nodeId) => options.transport.peer(nodeId) !== undefined,
    })
    this.#budget = new DialBudget({
      interval: options.gossipInterval,
      perInterval: options.book.unverifiedDials,
      perHost: options.book.unverifiedDialsPerHost,
    })
  }

  async start(): Promise<void> {
    this.#book.load()
    // A start time as seq: a restarted node's record replaces the one it gossiped before.
    this.#self = this.#o.signer?.sign([this.#o.transport.listenAddr], Date.now())
    await Promise.allSettled(this.#o.bootstrap.map((addr) => this.#dialAddr(addr, undefined)))
    this.#timer = setInterval(() => void this.tick(), this.#o.gossipInterval)
    this.#timer.unref()
  }

  /** Stops gossip and dials; the peers connected now are recorded as seen now, the book's last write. */
  stop(): void {
    this.#stopped = true
    clearInterval(this.#timer)
    clearTimeout(this.#spreadTimer)
    const now = Date.now()
    for (const peer of this.#o.transport.peers()) this.#book.seen(peer.nodeId, now)
    this.#book.close()
  }

  /** The dialable address known for a node. */
  addrOf(nodeId: string): string | undefined {
    return this.#book.get(nodeId)?.addr
  }

  knownIds(): string[] {
    return this.#book.ids()
  }

  /** Peers in the book: reached at their address, and known from gossip only. */
  bookCounts(): { verified: number; unverified: number } {
    return this.#book.counts()
  }

  /**
   * Called for every new connection, inbound or outbound. An inbound peer counts as reached at the
   * address it announces only when that address is on the host it connected from: it cannot point
   * this node at another host. (An outbound dial verifies the address it dialled, in #dialAddr.)
   */
  onPeer(peer: Peer): void {
    this.#backoff.delete(peer.nodeId)
    const now = Date.now()
    if (peer.direction === 'inbound' && peer.listenAddr) {
      if (hostOf(peer.listenAddr) === hostOf(peer.remoteAddress))
        this.#book.verify(peer.nodeId, peer.listenAddr, now)
      else this.#book.heard(peer.nodeId, peer.listenAddr, now)
    } else {
      this.#book.seen(peer.nodeId, now)
    }
    void this.exchange(peer)
  }

  /** Called when the last connection to a node closed: it was there until now. */
  onPeerClose(peer: Peer): void {
    this.#book.seen(peer.nodeId, Date.now())
  }

  /** Sends our records (a sample, or the news given) to a peer and merges the ones it answers with. */
  async exchange(peer: Peer, news?: PeerRecord[]): Promise<void> {
    try {
      const sent = news && this.#self ? [this.#self, ...news] : (news ?? this.#sample(peer.nodeId))
      const records = await exchangeGossip(peer, sent, this.#o.requestTimeout)
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

  /**
   * A peer another finder reported (the LAN, a DHT): dialled within the dial budget, as a gossip-only
   * record is, insisting on the node id it claims; the handshake decides. One that fails waits out
   * its backoff before it is dialled again, however often it is announced.
   */
  found(peer: FoundPeer): void {
    const now = Date.now()
    const { nodeId, addr } = peer
    if (this.#stopped || nodeId === this.#o.transport.nodeId) return
    if (nodeId !== undefined) {
      if (this.#o.transport.peer(nodeId) || this.#dialing.has(nodeId) || !this.#dueForDial(nodeId, now))
        return
    }
    if (!this.#roomToDial() || !this.#budget.take(addr, now)) return
    this.#o.logger.info({ via: peer.via, addr, nodeId }, 'found a peer: dialling it')
    void this.#dialAddr(addr, nodeId, 0, (err) => {
      this.#o.logger.warn(
        { via: peer.via, addr, nodeId, code: errorCode(err), err: String(err) },
        'a peer found was not admitted',
      )
    }).then((ok) => {
      if (ok) {
        this.#budget.succeeded(addr)
        return
      }
      const failedAt = Date.now()
      this.#budget.failed(addr, failedAt)
      if (nodeId !== undefined) this.#backOff(nodeId, failedAt)
    })
  }

  /** Dials an address (optionally insisting on a node id); resolves with the connected peer, then verified in the book. */
  async connect(addr: string, expectNodeId?: string, retries?: number, signal?: AbortSignal): Promise<Peer> {
    const opts = {
      ...(expectNodeId ? { expectNodeId } : {}),
      ...(retries === undefined ? {} : { retries }),
      ...(signal ? { signal } : {}),
    }
    const peer = await this.#o.transport.dial(addr, opts)
    this.#book.verify(peer.nodeId, addr, Date.now())
    return peer
  }

  async tick(): Promise<void> {
    if (this.#stopped) return
    this.#o.onRound?.()
    const now = Date.now()
    const connected = this.#o.transport.peers()
    const ids = new Set(connected.map((p) => p.nodeId))
    for (const addr of this.#o.bootstrap) {
      const nodeId = this.#reachedAt.get(addr)
      const reached = (nodeId && ids.has(nodeId)) || connected.some((p) => p.listenAddr === addr)
      if (!reached) void this.#dialAddr(addr, undefined)
    }
    for (const peer of shuffle(connected).slice(0, this.#o.fanout)) void this.exchange(peer)
    for (const entry of [...this.#book.verifiedEntries()]) {
      if (!this.#roomToDial()) break
      if (!ids.has(entry.nodeId) && this.#dueForDial(entry.nodeId, now)) void this.#dialEntry(entry)
    }
    this.#dialUnverified(now)
    // Forget what no longer matters, so that minted identities leave nothing behind.
    this.#budget.prune(now)
    for (const nodeId of this.#backoff.keys()) if (!this.#book.get(nodeId)) this.#backoff.delete(nodeId)
    for (const [nodeId, w] of this.#rate)
      if (now - w.start >= this.#o.gossipInterval) this.#rate.delete(nodeId)
  }

  #merge(records: PeerRecord[], from: string): void {
    const self = this.#o.transport.nodeId
    let news = false
    for (const incoming of records.slice(0, MAX_GOSSIP_RECORDS)) {
      if (incoming.nodeId === self) continue
      const known = this.#book.get(incoming.nodeId)?.record
      if (known && known.seq >= incoming.seq) continue
      if (!verifyPeerRecord(incoming)) {
        this.#o.logger.warn({ from, nodeId: incoming.nodeId }, 'dropped a peer record with a bad signature')
        continue
      }
      const record = copyRecord(incoming)
      this.#book.learn(record, from)
      if (this.#news.length < MAX_NEWS) this.#news.push(record)
      news = true
    }
    if (news) this.#spreadSoon()
    this.#dialUnverified(Date.now())
  }

  /**
   * News (a node not known before, or a newer record of one) goes on, as it is, to the connected
   * peers a moment later rather than at the next round, so membership spreads in a few hops of milliseconds,
   * not of gossip intervals. One spread at a time; each node passes a record on once, when it is
   * news to it, so a spread dies out once everyone has it.
   */
  #spreadSoon(): void {
    if (this.#spreadTimer || this.#stopped) return
    this.#spreadTimer = setTimeout(() => {
      this.#spreadTimer = undefined
      if (this.#stopped) return
      const news = this.#news.splice(0, MAX_GOSSIP_RECORDS - 1)
      // To every connected peer (a pool's worth at most): a record reaches the whole connected
      // network in a few hops, and each node sends it once.
      const byNode = new Map(this.#o.transport.peers().map((p) => [p.nodeId, p]))
      for (const peer of byNode.values()) {
        const fresh = news.filter((r) => r.nodeId !== peer.nodeId)
        if (fresh.length > 0) void this.exchange(peer, fresh)
      }
      if (this.#news.length > 0) this.#spreadSoon()
    }, SPREAD_DELAY)
    this.#spreadTimer.unref()
  }

  /**
   * What goes to a peer: this node's record, records of peers reached at their address, and a few
   * gossip-only ones (signed, not yet reached), so that membership spreads beyond the nodes each
   * one has connected to, while a flood of minted records travels only diluted.
   */
  #sample(exclude: string): PeerRecord[] {
    const verified = shuffle(this.#book.gossipable().filter((r) => r.nodeId !== exclude))
    const heard: PeerRecord[] = []
    for (const e of this.#book.unverifiedEntries()) if (e.record && e.nodeId !== exclude) heard.push(e.record)
    const out = this.#self ? [this.#self] : []
    const relayed = shuffle(heard).slice(0, RELAYED_UNVERIFIED)
    const room = MAX_GOSSIP_RECORDS - out.length - relayed.length
    return out.concat(verified.slice(0, room), relayed).slice(0, MAX_GOSSIP_RECORDS)
  }

  /** Takes a dial of a gossip-only address out of the dial budget (per interval, per host). */
  takeDial(addr: string): boolean {
    return this.#budget.take(addr, Date.now())
  }

  /** Whether a node was reached at its address (or is connected now): placement prefers those. */
  isVerified(nodeId: string): boolean {
    return this.#o.transport.peer(nodeId) !== undefined || this.#book.get(nodeId)?.verified === true
  }

  /**
   * Dials gossip-only records within the dial budget, one connect attempt each, to verify them. Records told by
   * peers that told us of few go first, so a flood of one teller's records cannot starve the rest.
   */
  #dialUnverified(now: number): void {
    if (this.#stopped) return
    const due: { entry: BookEntry; told: number; failures: number; tie: number }[] = []
    for (const entry of this.#book.unverifiedEntries()) {
      if (this.#dialing.has(entry.nodeId) || this.#o.transport.peer(entry.nodeId)) continue
      if (!this.#dueForDial(entry.nodeId, now) || !this.#budget.due(entry.addr, now)) continue
      due.push({ entry, told: this.#book.toldBy(entry.from), failures: entry.failures, tie: Math.random() })
    }
    due.sort((a, b) => a.told - b.told || a.failures - b.failures || a.tie - b.tie)
    // Not held back by minPeers: reaching a member once makes it one placement trusts, and the
    // budget bounds these dials; the connection pool closes them again once idle.
    for (const { entry } of due) {
      if (this.#budget.take(entry.addr, now)) void this.#dialEntry(entry, 0)
    }
  }

  async #dialEntry(entry: BookEntry, retries?: number): Promise<void> {
    const { nodeId, addr, verified } = entry
    if (this.#dialing.has(nodeId)) return
    if (await this.#dialAddr(addr, nodeId, retries)) {
      if (!verified) this.#budget.succeeded(addr)
      return
    }
    const now = Date.now()
    if (!verified) this.#budget.failed(addr, now)
    if (this.#book.failed(nodeId, now)) {
      this.#backoff.delete(nodeId)
      return
    }
    this.#backOff(nodeId, now)
  }

  /** One more failed dial of a node: it is not dialled again before its backoff has passed. */
  #backOff(nodeId: string, now: number): void {
    const b = this.#backoff.get(nodeId) ?? { attempts: 0, nextAt: 0 }
    b.attempts++
    b.nextAt = now + dialBackoff(b.attempts)
    this.#backoff.set(nodeId, b)
  }

  /** Dials stop once connected peers plus dials in progress reach minPeers. */
  #roomToDial(): boolean {
    const connected = new Set(this.#o.transport.peers().map((p) => p.nodeId)).size
    return connected + this.#dialing.size < this.#o.minPeers
  }

  #dueForDial(nodeId: string, now: number): boolean {
    const b = this.#backoff.get(nodeId)
    return !b || now >= b.nextAt
  }

  async #dialAddr(
    addr: string,
    expectNodeId: string | undefined,
    retries?: number,
    onError?: (err: unknown) => void,
  ): Promise<boolean> {
    const key = expectNodeId ?? addr
    if (this.#stopped || this.#dialing.has(key)) return false
    this.#dialing.add(key)
    try {
      const peer = await this.connect(addr, expectNodeId, retries)
      if (this.#o.bootstrap.includes(addr)) this.#reachedAt.set(addr, peer.nodeId)
      return true
    } catch (err) {
      if (onError) onError(err)
      else this.#o.logger.debug({ addr, err: String(err) }, 'dial failed')
      return false
    } finally {
      this.#dialing.delete(key)
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
