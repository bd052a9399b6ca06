import { EventEmitter } from 'node:events'
import { isIP } from 'node:net'
import { createSecureContext, type SecureContext } from 'node:tls'
import { parseAddress } from './address.js'
import { isLoopback } from './address-group.js'
import { ConnectionSet } from './connection-set.js'
import { ConnectionUpgrade } from './connection-upgrade.js'
import { Dialler } from './dialler.js'
import { ConnectionClosedError } from './errors.js'
import { PendingSockets } from './pending-sockets.js'
import { openSocket } from './socket-connect.js'
import { remoteOf, TcpListener } from './tcp-listener.js'
import { type ResolvedOptions, resolveOptions, type TcpTransportOptions } from './tcp-transport-options.js'
import type { DialOptions, Peer, RequestHandler, Transport } from './transport.js'

/**
 * The Transport over node:net, optionally TLS 1.3: the wiring of a listener (admission limits),
 * a dialler (retries), the upgrade (TLS, handshake, tie-break) and the connection set.
 */
export class TcpTransport extends EventEmitter implements Transport {
  readonly nodeId: string
  private readonly opts: ResolvedOptions
  private handler: RequestHandler | undefined
  private closing = false
  private readonly pending = new PendingSockets()
  private readonly connections: ConnectionSet
  private readonly upgrader: ConnectionUpgrade
  private readonly dialler: Dialler
  private readonly listener: TcpListener
  private readonly secureContext: SecureContext | undefined

  constructor(options: TcpTransportOptions) {
    super()
    const opts = resolveOptions(options)
    this.opts = opts
    const { identity, logger } = opts
    const isClosing = (): boolean => this.closing
    this.secureContext = opts.tls
      ? createSecureContext({
          cert: identity.certPem,
          key: identity.keyPem,
          minVersion: 'TLSv1.3',
          maxVersion: 'TLSv1.3',
        })
      : undefined
    this.connections = new ConnectionSet(opts, this, () => this.handler)
    this.upgrader = new ConnectionUpgrade(opts, {
      connections: this.connections,
      pending: this.pending,
      listenAddr: () => this.listenAddr,
      isClosing,
      secureContext: this.secureContext,
    })
    this.nodeId = this.upgrader.nodeId
    this.dialler = new Dialler({
      retries: opts.dialRetries,
      backoff: opts.dialBackoff,
      backoffMax: opts.dialBackoffMax,
      logger,
      connections: this.connections,
      isClosing,
      upgrade: ({ stream, remoteAddress }, expectNodeId) =>
        this.upgrader.upgrade(stream, { direction: 'outbound', expectNodeId, remoteAddress }),
    })
    this.listener = new TcpListener({
      ...opts,
      accept: (socket, quiet) => {
        // Credit and control frames are tiny: Nagle's algorithm would hold them back.
        socket.setNoDelay(true)
        return this.upgrader.upgrade(socket, {
          direction: 'inbound',
          expectNodeId: undefined,
          remoteAddress: remoteOf(socket),
          quiet,
        })
      },
    })
  }

  get listenAddr(): string {
    return this.opts.announceAddr ?? this.listener.address ?? ''
  }

  async listen(): Promise<string> {
    const bound = await this.listener.listen()
    this.opts.logger.info({ addr: bound, nodeId: this.nodeId, tls: this.opts.tls }, 'listening')
    return this.listenAddr
  }

  handle(handler: RequestHandler): void {
    this.handler = handler
  }

  /**
   * Inbound sockets now (in their handshake or connected), those still in their
   * handshake, and how many were refused at once because a limit was reached
   * (since listen): what an operator watches under a connection flood.
   */
  get inboundStats(): { connections: number; pendingHandshakes: number; refused: number } {
    return this.listener.stats
  }

  peers(): Peer[] {
    return this.connections.list()
  }

  peer(nodeId: string): Peer | undefined {
    return this.connections.get(nodeId)
  }

  dial(addr: string, opts: DialOptions = {}): Promise<Peer> {
    if (this.closing) return Promise.reject(new ConnectionClosedError('the transport is closed'))
    const { host, port } = parseAddress(addr)
    return this.dialler.dial(addr, opts, async (signal) => {
      const socket = await openSocket(host, port, {
        secureContext: this.secureContext,
        timeout: this.opts.handshakeTimeout,
        signal,
        localAddress: this.sourceFor(host),
        track: (s) => this.pending.add(s),
      })
      // Credit and control frames are tiny: Nagle's algorithm would hold them back.
      socket.setNoDelay(true)
      return { stream: socket, remoteAddress: remoteOf(socket) }
    })
  }

  async close(): Promise<void> {
    this.closing = true
    const listenerClosed = this.listener.close()
    // Sockets still pending are in their handshake: nothing to flush.
    await Promise.all([this.connections.closeAll('the transport is closing'), this.pending.destroyAll()])
    await listenerClosed
  }

  /**
   * A node listening on one loopback address (127.0.0.5) dials other loopback nodes from it, so that
   * peers see the address it listens on: several nodes on one machine then stay apart by address
   * (and address group). Elsewhere the system picks the source.
   */
  private sourceFor(host: string): string | undefined {
    const own = this.opts.host
    return isIP(own) !== 0 && isIP(own) === isIP(host) && isLoopback(own) && isLoopback(host)
      ? own
      : undefined
  }
}
