// hyperdht has no types of its own: the reference brings ours into every program that compiles this file.
/// <reference path="./types/hyperdht.d.ts" />
import { createHash, createHmac } from 'node:crypto'
import { formatAddress, parseAddress } from '@cas/p2p'
import type HyperDHT from 'hyperdht'
import type { KeyPair } from 'hyperdht'
import * as z from 'zod'
import { InvalidOptionsError } from './errors.js'
import type { Logger } from './logger.js'
import type { FoundPeer, PeerFinder } from './peer-finder.js'

/** Pause between two announcements; hyperdht forgets a record 20 min after it was made, in ms. */
export const DEFAULT_DHT_ANNOUNCE_INTERVAL = 5 * 60_000
/** Pause between two lookups of the topic, in ms. */
export const DEFAULT_DHT_LOOKUP_INTERVAL = 60_000
/** Most distinct DHT keys read from one lookup; the rest of what hostile nodes return is ignored. */
export const MAX_DHT_KEYS_PER_LOOKUP = 32
/** Lookups soon after start (ms), so nodes that start together find each other within seconds. */
const EARLY_LOOKUPS = [3_000, 15_000]
/** An honest DHT node returns at most 20 announcements per topic. */
const MAX_PEERS_PER_REPLY = 20
/** A record is about 120 bytes; anything much larger is not one of ours. */
export const MAX_DHT_RECORD_BYTES = 512
/** Records fetched at once after a lookup. */
const FETCH_CONCURRENCY = 4
/** Records remembered by DHT key, so a lookup does not fetch again what it read before. */
const KNOWN_KEYS = 1024
/** How long stop() waits for the announcement to be withdrawn before it closes the DHT, in ms. */
const UNANNOUNCE_TIMEOUT = 2_000
const TOPIC_LABEL = 'cas/dht-topic/v1'
const BOOTSTRAP = /^[A-Za-z0-9.-]+:(\d{1,5})$/

export interface DhtDiscoveryOptions {
  /**
   * host:port (IPv4 or DNS name) of the DHT nodes to join through. Required: there is no default,
   * so a node never talks to public DHT nodes it was not told about.
   */
  bootstrap: string[]
  /**
   * The network key: the topic is derived from it, so only nodes of the same network meet there.
   * Without one, nodes meet in the public cas topic.
   */
  networkKey?: Uint8Array
  /** Local address of the DHT's UDP socket; default every interface. */
  host?: string
  /** Default DEFAULT_DHT_ANNOUNCE_INTERVAL. */
  announceInterval?: number
  /** Default DEFAULT_DHT_LOOKUP_INTERVAL. */
  lookupInterval?: number
  logger: Logger
}

/**
 * The DHT topic cas nodes announce under: HMAC-SHA-256 keyed by the network key, so the topic
 * neither reveals the key nor can be computed without it; else SHA-256 of a fixed public label.
 */
export function dhtTopic(networkKey?: Uint8Array): Buffer {
  return networkKey === undefined
    ? createHash('sha256').update(`${TOPIC_LABEL}/public`).digest()
    : createHmac('sha256', networkKey).update(TOPIC_LABEL).digest()
}

/** What a node stores in the DHT under its announced key: where to dial it, and its node id. */
export interface DhtRecord {
  addr: string
  nodeId: string
}

const recordSchema = z.object({
  v: z.literal(1),
  addr: z.string().max(300).refine(isRemoteAddress, 'not a host:port to dial'),
  nodeId: z.string().regex(/^[0-9a-f]{64}$/),
})
const replySchema = z.object({ peers: z.array(z.unknown()) })
const peerSchema = z.object({ publicKey: z.instanceof(Uint8Array).refine((k) => k.byteLength === 32) })
const mutableSchema = z.object({ value: z.instanceof(Uint8Array) })

export function encodeDhtRecord(record: DhtRecord): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, addr: record.addr, nodeId: record.nodeId }))
}

/** The record in a value read from the DHT, or undefined for anything else (it is anyone's). */
export function decodeDhtRecord(value: unknown): DhtRecord | undefined {
  if (!(value instanceof Uint8Array) || value.byteLength > MAX_DHT_RECORD_BYTES) return undefined
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'))
  } catch {
    return undefined
  }
  const parsed = recordSchema.safeParse(json)
  return parsed.success ? { addr: parsed.data.addr, nodeId: parsed.data.nodeId } : undefined
}

function isRemoteAddress(addr: string): boolean {
  try {
    return !isWildcard(parseAddress(addr).host)
  } catch {
    return false
  }
}

function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::'
}

/**
 * Finds cas nodes across the internet on Holepunch's DHT (hyperdht). Each node announces a key
 * pair of its own under the topic of its network, and stores under that key a record signed with
 * it: `{ v: 1, addr, nodeId }`. A lookup of the topic gives the keys announced; the record of each
 * gives where to dial. Keys, records and what they name are claims from anyone on the DHT: they
 * are checked here for shape and size, then the dial budget and the handshake decide.
 */
export class DhtDiscovery implements PeerFinder {
  readonly name = 'dht'
  readonly #o: DhtDiscoveryOptions
  readonly #topic: Buffer
  #dht: HyperDHT | undefined
  #keyPair: KeyPair | undefined
  #announced = false
  #stopped = false
  #self = { nodeId: '', listenAddr: '' }
  #found: (peer: FoundPeer) => void = () => {}
  #record: { value: Buffer; seq: number } | undefined
  #warnedNoAddr = false
  readonly #busy = new Set<'announce' | 'lookup'>()
  /** Records read, by DHT key (hex), and when; null for a value that was no record. */
  readonly #known = new Map<string, { record: DhtRecord | null; at: number }>()
  readonly #timers: NodeJS.Timeout[] = []

  constructor(options: DhtDiscoveryOptions) {
    if (options.bootstrap.length === 0) {
      throw new InvalidOptionsError(
        'finders: DhtDiscovery needs at least one DHT bootstrap node (host:port); it has no public default',
      )
    }
    for (const b of options.bootstrap) {
      const port = Number(BOOTSTRAP.exec(b)?.[1])
      if (!(port >= 1 && port <= 65_535)) {
        throw new InvalidOptionsError(`finders: DHT bootstrap ${JSON.stringify(b)} is not host:port`)
      }
    }
    for (const key of ['announceInterval', 'lookupInterval'] as const) {
      const v = options[key]
      if (v !== undefined && !(Number.isSafeInteger(v) && v > 0)) {
        throw new InvalidOptionsError(`finders: DhtDiscovery ${key} must be a whole number of ms above 0`)
      }
    }
    this.#o = options
    this.#topic = dhtTopic(options.networkKey)
  }

  async start(self: { nodeId: string; listenAddr: string }, found: (peer: FoundPeer) => void): Promise<void> {
    if (this.#dht) await this.stop()
    this.#self = { ...self }
    this.#found = found
    this.#stopped = false
    // Loaded here, not with the package: a node without --dht never loads hyperdht's native parts.
    const { default: Dht } = await import('hyperdht')
    // Ephemeral: a cas node uses the DHT and does not store others' records; the bootstrap is always
    // the user's, as hyperdht would otherwise join the public network.
    this.#dht = new Dht({
      bootstrap: [...this.#o.bootstrap],
      ephemeral: true,
      ...(this.#o.host !== undefined && { host: this.#o.host }),
    })
    this.#keyPair = Dht.keyPair()
    // Not awaited: joining the DHT can take seconds, and the node does not wait for it.
    this.#guard('announce', () => this.#announce())
    for (const delay of EARLY_LOOKUPS) this.#later(delay, () => this.#guard('lookup', () => this.#lookup()))
    this.#every(this.#announceInterval, () => this.#guard('announce', () => this.#announce()))
    this.#every(this.#o.lookupInterval ?? DEFAULT_DHT_LOOKUP_INTERVAL, () =>
      this.#guard('lookup', () => this.#lookup()),
    )
  }

  get #announceInterval(): number {
    return this.#o.announceInterval ?? DEFAULT_DHT_ANNOUNCE_INTERVAL
  }

  async stop(): Promise<void> {
    this.#stopped = true
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.length = 0
    const dht = this.#dht
    const keyPair = this.#keyPair
    this.#dht = undefined
    if (!dht) return
    // Withdrawn, the announcement is not dialled by others for the 20 min the DHT would keep it.
    if (this.#announced && keyPair) {
      this.#announced = false
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        dht.unannounce(this.#topic, keyPair).catch(() => {}),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, UNANNOUNCE_TIMEOUT)
        }),
      ])
      clearTimeout(timer)
    }
    await dht.destroy({ force: true }).catch((err: unknown) => {
      this.#o.logger.debug({ err: String(err) }, 'DHT discovery: closing the DHT failed')
    })
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(fn, ms)
    t.unref()
    this.#timers.push(t)
  }

  #every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms)
    t.unref()
    this.#timers.push(t)
  }

  /** Runs one announce or lookup at a time of each kind; a failure is logged, never thrown. */
  #guard(kind: 'announce' | 'lookup', run: () => Promise<void>): void {
    if (this.#stopped || this.#busy.has(kind)) return
    this.#busy.add(kind)
    run()
      .catch((err: unknown) => {
        if (!this.#stopped) this.#o.logger.warn({ err: String(err) }, `DHT discovery: the ${kind} failed`)
      })
      .finally(() => this.#busy.delete(kind))
  }

  /** Stores this node's record, then announces its key under the topic (which looks the topic up too). */
  async #announce(): Promise<void> {
    const dht = this.#dht
    const keyPair = this.#keyPair
    if (!dht || !keyPair) return
    await dht.fullyBootstrapped()
    const record = this.#ownRecord(dht)
    const keys: Buffer[] = []
    if (record) {
      // The record first: a node that finds the key finds its record too.
      await dht.mutablePut(keyPair, record.value, { seq: record.seq })
      for await (const reply of dht.announce(this.#topic, keyPair, [])) this.#collect(reply, keys)
      this.#announced = true
      this.#o.logger.debug({ keys: keys.length }, 'DHT discovery: announced')
    } else {
      for await (const reply of dht.lookup(this.#topic)) this.#collect(reply, keys)
    }
    await this.#report(dht, keys, 'announce')
  }

  async #lookup(): Promise<void> {
    const dht = this.#dht
    if (!dht) return
    await dht.fullyBootstrapped()
    const keys: Buffer[] = []
    // Read to the end, not broken off: the query is bounded by the DHT; what it returns, here.
    for await (const reply of dht.lookup(this.#topic)) this.#collect(reply, keys)
    await this.#report(dht, keys, 'lookup')
  }

  /** This node's record; the seq goes up when the value changes, as the DHT wants. */
  #ownRecord(dht: HyperDHT): { value: Buffer; seq: number } | undefined {
    const addr = this.#ownAddr(dht)
    if (addr === undefined) {
      if (!this.#warnedNoAddr) {
        this.#warnedNoAddr = true
        this.#o.logger.warn(
          { listenAddr: this.#self.listenAddr },
          'DHT discovery: not announcing this node, as it listens on every interface and the DHT has not said at which address it sees it; set the address to announce',
        )
      }
      return undefined
    }
    const value = encodeDhtRecord({ addr, nodeId: this.#self.nodeId })
    const prev = this.#record
    this.#record = prev?.value.equals(value) ? prev : { value, seq: prev ? prev.seq + 1 : 0 }
    return this.#record
  }

  /** The listen address, or, when that is every interface, the address the DHT sees this node at. */
  #ownAddr(dht: HyperDHT): string | undefined {
    let listen: { host: string; port: number }
    try {
      listen = parseAddress(this.#self.listenAddr)
    } catch {
      return undefined
    }
    if (!isWildcard(listen.host)) return this.#self.listenAddr
    return dht.host === null ? undefined : formatAddress(dht.host, listen.port)
  }

  /** Adds the distinct keys of one untrusted reply, up to MAX_DHT_KEYS_PER_LOOKUP in all. */
  #collect(reply: unknown, keys: Buffer[]): void {
    const parsed = replySchema.safeParse(reply)
    if (!parsed.success) return
    for (const raw of parsed.data.peers.slice(0, MAX_PEERS_PER_REPLY)) {
      if (keys.length >= MAX_DHT_KEYS_PER_LOOKUP) return
      const peer = peerSchema.safeParse(raw)
      if (!peer.success) continue
      const key = Buffer.from(peer.data.publicKey)
      if (this.#keyPair?.publicKey.equals(key) || keys.some((k) => k.equals(key))) continue
      keys.push(key)
    }
  }

  /** Reads the record of each key (those read before, from memory) and reports the nodes they name. */
  async #report(dht: HyperDHT, keys: Buffer[], kind: 'announce' | 'lookup'): Promise<void> {
    const queue = [...keys]
    let reported = 0
    const worker = async (): Promise<void> => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        if (this.#stopped) return
        const record = await this.#recordOf(dht, key)
        if (!record || record.nodeId === this.#self.nodeId) continue
        reported++
        this.#found({ addr: record.addr, nodeId: record.nodeId, via: this.name })
      }
    }
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, queue.length) }, worker))
    this.#o.logger.debug({ kind, keys: keys.length, reported }, 'DHT discovery: lookup done')
  }

  async #recordOf(dht: HyperDHT, key: Buffer): Promise<DhtRecord | undefined> {
    const hex = key.toString('hex')
    const known = this.#known.get(hex)
    // Read again once the owner has put it again: the address in it may have changed.
    if (known && Date.now() - known.at < this.#announceInterval) return known.record ?? undefined
    this.#known.delete(hex)
    let got: unknown
    try {
      got = await dht.mutableGet(key, { latest: false })
    } catch (err) {
      this.#o.logger.debug({ key: hex, err: String(err) }, 'DHT discovery: reading a record failed')
      return undefined
    }
    // No record yet is asked again next time; a value that is no record is remembered as such.
    if (got === null) return undefined
    const parsed = mutableSchema.safeParse(got)
    const record = parsed.success ? decodeDhtRecord(parsed.data.value) : undefined
    if (this.#known.size >= KNOWN_KEYS) {
      const oldest = this.#known.keys().next().value
      if (oldest !== undefined) this.#known.delete(oldest)
    }
    this.#known.set(hex, { record: record ?? null, at: Date.now() })
    return record
  }
}
