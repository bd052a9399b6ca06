import type { RemoteInfo } from 'node:dgram'
import { isIPv4 } from 'node:net'
import makeMdns from 'multicast-dns'
import * as z from 'zod'
import type { Logger } from './logger.js'
import type { FoundPeer, PeerFinder } from './peer-finder.js'

/** The DNS-SD service cas nodes announce on the LAN. */
export const LAN_SERVICE = '_cas._tcp.local'
/** mDNS's own port; nodes find only those that use the same one. */
export const DEFAULT_LAN_DISCOVERY_PORT = 5353
/** Pause between two queries for other nodes (each node also announces itself at start), in ms. */
export const DEFAULT_LAN_QUERY_INTERVAL = 60_000
/** Queries at start, at these delays (ms): a node that starts with others finds them within seconds. */
const EARLY_QUERIES = [0, 1_000, 3_000]
const TTL_SECONDS = 120

type Answer = makeMdns.ResponseOutgoingPacket['answers'][number]
const MAX_RECORDS = 64
const MDNS_GROUP = '224.0.0.251'

export interface LanDiscoveryOptions {
  /** UDP port; default DEFAULT_LAN_DISCOVERY_PORT. */
  port?: number
  /**
   * IPv4 address of the interface to multicast on: the listen address when it names one (127.0.0.1
   * for a node on loopback); default every interface.
   */
  interface?: string
  /** Default DEFAULT_LAN_QUERY_INTERVAL. */
  queryInterval?: number
  logger: Logger
}

/** The records of an announcement this finder reads; anything else in a packet is ignored. */
const srvSchema = z.object({
  type: z.literal('SRV'),
  name: z.string(),
  data: z.object({ port: z.number().int().min(1).max(65_535), target: z.string() }),
})
const txtSchema = z.object({
  type: z.literal('TXT'),
  name: z.string(),
  data: z.array(z.instanceof(Buffer)).max(16),
})
const aSchema = z.object({ type: z.literal('A'), name: z.string(), data: z.string().refine(isIPv4) })
const ptrSchema = z.object({ type: z.literal('PTR'), name: z.literal(LAN_SERVICE), data: z.string() })
const NODE_ID = /^id=([0-9a-f]{64})$/

/**
 * Finds cas nodes on the local network with multicast DNS (DNS-SD service `_cas._tcp.local`), as
 * printers and media servers are found: each node answers queries for the service with its
 * address and node id, announces itself at start, and asks again now and then. What it hears is
 * a claim from anyone on the LAN; the dial and the handshake decide.
 */
export class LanDiscovery implements PeerFinder {
  readonly name = 'lan'
  readonly #o: LanDiscoveryOptions
  #mdns: ReturnType<typeof makeMdns> | undefined
  readonly #timers: NodeJS.Timeout[] = []

  #self = { nodeId: '', listenAddr: '' }

  constructor(options: LanDiscoveryOptions) {
    this.#o = options
  }

  async start(self: { nodeId: string; listenAddr: string }, found: (peer: FoundPeer) => void): Promise<void> {
    this.#self = { ...self }
    const { logger } = this.#o
    const mdns = makeMdns({
      port: this.#o.port ?? DEFAULT_LAN_DISCOVERY_PORT,
      // Bound to the group, not to an interface's address (which multicast never reaches) nor to
      // every address (which would take unicast from anywhere): only the group's packets arrive.
      bind: MDNS_GROUP,
      ...(this.#o.interface !== undefined && { interface: this.#o.interface }),
    })
    this.#mdns = mdns
    mdns.on('warning', (err: Error) =>
      logger.debug({ err: String(err) }, 'LAN discovery: a packet was dropped'),
    )
    await new Promise<void>((resolve, reject) => {
      mdns.once('ready', resolve)
      mdns.once('error', reject)
    }).catch(async (err: unknown) => {
      await this.stop()
      throw err
    })
    mdns.on('error', (err: Error) => logger.warn({ err: String(err) }, 'LAN discovery failed'))
    mdns.on('query', (query) => {
      const asked = (query.questions ?? []).some(
        (q) => q.name === LAN_SERVICE && (q.type === 'PTR' || (q.type as string) === 'ANY'),
      )
      if (asked) {
        this.#announce()
      }
    })
    mdns.on('response', (response, rinfo) => {
      // A packet holds a handful of records; a hostile one with thousands is read no further.
      const records = [...(response.answers ?? []), ...(response.additionals ?? [])].slice(0, MAX_RECORDS)
      for (const peer of this.#read(records, rinfo)) found(peer)
    })
    this.#announce()
    for (const delay of EARLY_QUERIES) this.#later(delay, () => this.#query())
    const every = setInterval(() => this.#query(), this.#o.queryInterval ?? DEFAULT_LAN_QUERY_INTERVAL)
    every.unref()
    this.#timers.push(every)
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.length = 0
    const mdns = this.#mdns
    this.#mdns = undefined
    if (mdns) await new Promise<void>((resolve) => mdns.destroy(() => resolve()))
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(fn, ms)
    t.unref()
    this.#timers.push(t)
  }

  #query(): void {
    this.#mdns?.query({ questions: [{ name: LAN_SERVICE, type: 'PTR' }] })
  }

  /** This node's PTR, SRV and TXT records (and A, when it listens on one address). */
  #announce(): void {
    const addr = this.#self.listenAddr
    const colon = addr.lastIndexOf(':')
    const host = addr.slice(0, colon)
    const port = Number(addr.slice(colon + 1))
    if (!Number.isInteger(port) || port <= 0) return
    const label = this.#self.nodeId.slice(0, 16)
    const instance = `${label}.${LAN_SERVICE}`
    const target = `${label}.cas.local`
    const answers: Answer[] = [{ name: LAN_SERVICE, type: 'PTR', ttl: TTL_SECONDS, data: instance }]
    const additionals: Answer[] = [
      { name: instance, type: 'SRV', ttl: TTL_SECONDS, data: { port, target } },
      { name: instance, type: 'TXT', ttl: TTL_SECONDS, data: ['v=1', `id=${this.#self.nodeId}`] },
    ]
    // A wildcard listener is reached at the address its packets come from.
    if (isIPv4(host) && host !== '0.0.0.0') {
      additionals.push({ name: target, type: 'A', ttl: TTL_SECONDS, data: host })
    }
    this.#mdns?.respond({ answers, additionals })
  }

  /** The nodes a response announces (not this one), each with the address to dial. */
  #read(records: unknown[], rinfo: RemoteInfo): FoundPeer[] {
    const out: FoundPeer[] = []
    for (const ptr of records) {
      const p = ptrSchema.safeParse(ptr)
      if (!p.success) continue
      const instance = p.data.data
      const srv = records.map((r) => srvSchema.safeParse(r).data).find((r) => r?.name === instance)
      const txt = records.map((r) => txtSchema.safeParse(r).data).find((r) => r?.name === instance)
      if (!srv || !txt) continue
      const nodeId = txt.data
        .map((b) => NODE_ID.exec(b.toString('latin1'))?.[1])
        .find((id) => id !== undefined)
      if (!nodeId || nodeId === this.#self.nodeId) continue
      const a = records.map((r) => aSchema.safeParse(r).data).find((r) => r?.name === srv.data.target)
      const host = a?.data ?? rinfo.address
      if (!isIPv4(host)) continue
      out.push({ addr: `${host}:${srv.data.port}`, nodeId, via: this.name })
    }
    return out
  }
}
