import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { formatAddress } from './address.js'
import { addressGroup } from './address-group.js'
import { InvalidArgumentError } from './errors.js'
import type { Logger } from './logger.js'

/** Least milliseconds between two log lines about refused inbound connections. */
const REFUSAL_LOG_INTERVAL = 1_000

type Limit = 'maxInboundConnections' | 'maxPendingHandshakes' | 'maxInboundPerAddress' | 'maxInboundPerGroup'

export interface TcpListenerOptions {
  host: string
  port: number
  maxInboundConnections: number
  maxInboundPerAddress: number
  maxInboundPerGroup: number
  maxPendingHandshakes: number
  logger: Logger
  /**
   * Runs the handshake of an admitted socket; the socket holds a handshake slot until this settles.
   * `quiet()` turns true once the listener dropped the socket to make room (it logged that already).
   */
  accept(socket: Socket, quiet: () => boolean): Promise<unknown>
}

/**
 * The server socket and who it lets in: caps on inbound sockets in all, per address and per
 * address group, and on handshakes in progress, where a newcomer evicts the oldest handshake.
 * Refusals are counted, and logged at most once a second.
 */
export class TcpListener {
  private server: Server | undefined
  private bound: string | undefined
  private closing = false
  /** Inbound sockets (in handshake or connected) per remote IP, and per address group (/24, /48). */
  private readonly byAddress = new Map<string, number>()
  private readonly byGroup = new Map<string, number>()
  private inbound = 0
  private pendingInbound = 0
  private refusedInbound = 0
  /** Inbound sockets still in their handshake, oldest first, with what frees their slots. */
  private readonly pending = new Map<Socket, () => void>()
  /** Handshakes dropped to make room: refuse() logged them already, in its rate-limited way. */
  private readonly evicted = new WeakSet<Socket>()
  private refusedSinceLog = 0
  private lastRefusalLog = 0
  private lastRefusal: { remote: string; limit: Limit } | undefined
  private refusalLogTimer: NodeJS.Timeout | undefined

  constructor(private readonly opts: TcpListenerOptions) {}

  /** The bound host:port, once listening. */
  get address(): string | undefined {
    return this.bound
  }

  /** See TcpTransport.inboundStats. */
  get stats(): { connections: number; pendingHandshakes: number; refused: number } {
    return { connections: this.inbound, pendingHandshakes: this.pendingInbound, refused: this.refusedInbound }
  }

  async listen(): Promise<string> {
    if (this.server) throw new InvalidArgumentError('the transport is already listening')
    const server = createServer((socket) => this.onInbound(socket))
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    server.on('error', (err) => this.opts.logger.error({ err }, 'listener error'))
    const a = server.address() as AddressInfo
    this.bound = formatAddress(a.address, a.port)
    return this.bound
  }

  /** Stops accepting; resolves once the server socket is closed (accepted sockets are not its to close). */
  close(): Promise<void> {
    this.closing = true
    this.logRefusals()
    const server = this.server
    return server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve()
  }

  private onInbound(socket: Socket): void {
    const { maxInboundConnections, maxPendingHandshakes } = this.opts
    if (this.closing) {
      socket.destroy()
      return
    }
    if (this.inbound >= maxInboundConnections) {
      this.refuse(socket, 'maxInboundConnections')
      return
    }
    // One host (or one /24, /48) cannot take the slots, or pose as many peers, by opening many connections.
    const ip = socket.remoteAddress ?? ''
    const group = addressGroup(ip)
    if ((this.byAddress.get(ip) ?? 0) >= this.opts.maxInboundPerAddress) {
      this.refuse(socket, 'maxInboundPerAddress')
      return
    }
    if ((this.byGroup.get(group) ?? 0) >= this.opts.maxInboundPerGroup) {
      this.refuse(socket, 'maxInboundPerGroup')
      return
    }
    if (this.pendingInbound >= maxPendingHandshakes) {
      // Make room by dropping the oldest handshake, not the newcomer: a few idle sockets
      // re-opened every handshakeTimeout would otherwise lock every new peer out, while
      // now a flood must outpace an honest handshake (milliseconds) to keep one out.
      const oldest = this.pending.entries().next().value
      if (oldest === undefined) {
        this.refuse(socket, 'maxPendingHandshakes')
        return
      }
      const [victim, release] = oldest
      release()
      this.evicted.add(victim)
      this.refuse(victim, 'maxPendingHandshakes')
    }
    this.inbound++
    this.pendingInbound++
    bump(this.byAddress, ip, 1)
    bump(this.byGroup, group, 1)
    let pending = true
    let counted = true
    const settle = (): void => {
      if (pending) this.pendingInbound--
      pending = false
      this.pending.delete(socket)
    }
    // Synchronous, so that an evicted socket frees its slots before its 'close' arrives.
    const release = (): void => {
      settle()
      if (counted) {
        this.inbound--
        bump(this.byAddress, ip, -1)
        bump(this.byGroup, group, -1)
      }
      counted = false
    }
    this.pending.set(socket, release)
    socket.once('close', release)
    this.opts.accept(socket, () => this.evicted.has(socket)).then(settle, settle)
  }

  /** Closes an inbound socket at a limit; a flood of them is logged at most once a second, with a count. */
  private refuse(socket: Socket, limit: Limit): void {
    this.refusedInbound++
    this.refusedSinceLog++
    this.lastRefusal = { remote: remoteOf(socket), limit }
    const wait = this.lastRefusalLog + REFUSAL_LOG_INTERVAL - Date.now()
    if (wait <= 0) this.logRefusals()
    // Refusals inside the interval are counted in one line at its end, not carried over to
    // whenever the next refusal comes (perhaps never).
    else this.refusalLogTimer ??= setTimeout(() => this.logRefusals(), wait).unref()
    socket.destroy()
  }

  private logRefusals(): void {
    clearTimeout(this.refusalLogTimer)
    this.refusalLogTimer = undefined
    if (this.refusedSinceLog === 0 || this.lastRefusal === undefined) return
    this.opts.logger.warn(
      { ...this.lastRefusal, refused: this.refusedSinceLog, refusedTotal: this.refusedInbound },
      'inbound connection refused: limit reached',
    )
    this.lastRefusalLog = Date.now()
    this.refusedSinceLog = 0
  }
}

/** host:port of a socket's other end, as logs and Peer.remoteAddress show it. */
export function remoteOf(socket: Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by
  if (n > 0) counts.set(key, n)
  else counts.delete(key)
}
