import { EventEmitter } from 'node:events'
import {
  type ConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from './connection-options.js'
import { ConnectionSet } from './connection-set.js'
import { ConnectionUpgrade } from './connection-upgrade.js'
import { Dialler } from './dialler.js'
import { ConnectionClosedError, InvalidArgumentError } from './errors.js'
import type { MemoryDuplex } from './memory-duplex.js'
import { MEMORY_HOST, type MemoryNetwork, parseMemoryAddress } from './memory-network.js'
import { PendingSockets } from './pending-sockets.js'
import type { DialOptions, Peer, RequestHandler, Transport } from './transport.js'

export interface MemoryTransportOptions extends ConnectionOptions {
  /** The network this transport listens on and dials through. */
  network: MemoryNetwork
  /** The n of `memory:<n>` to listen on; default 0 (any free one). */
  port?: number
}

/** What a listener sees as the remote address of a dialler that does not listen itself. */
const UNBOUND = `${MEMORY_HOST}:0`

/**
 * The Transport inside one process, for tests and embeddings: the same upgrade, handshake,
 * frames, codec and connections as TcpTransport, over in-memory pipes instead of sockets. So
 * bodies are encoded and checked as on the wire, streams keep their credit and backpressure,
 * and timeouts, aborts and errors behave alike. No TLS (nothing leaves the process) and no
 * admission limits (no one else can connect).
 */
export class MemoryTransport extends EventEmitter implements Transport {
  readonly nodeId: string
  readonly network: MemoryNetwork
  private readonly opts: ResolvedConnectionOptions
  private readonly port: number
  private bound: string | undefined
  private handler: RequestHandler | undefined
  private closing = false
  private readonly pending = new PendingSockets()
  private readonly connections: ConnectionSet
  private readonly upgrader: ConnectionUpgrade
  private readonly dialler: Dialler

  constructor(options: MemoryTransportOptions) {
    super()
    const { network, port, ...rest } = options
    this.network = network
    this.port = port ?? 0
    const opts = resolveConnectionOptions(rest)
    this.opts = opts
    const isClosing = (): boolean => this.closing
    this.connections = new ConnectionSet(opts, this, () => this.handler)
    this.upgrader = new ConnectionUpgrade(opts, {
      connections: this.connections,
      pending: this.pending,
      listenAddr: () => this.bound,
      isClosing,
    })
    this.nodeId = this.upgrader.nodeId
    this.dialler = new Dialler({
      retries: opts.dialRetries,
      backoff: opts.dialBackoff,
      backoffMax: opts.dialBackoffMax,
      logger: opts.logger,
      connections: this.connections,
      isClosing,
      upgrade: ({ stream, remoteAddress }, expectNodeId) =>
        this.upgrader.upgrade(stream, { direction: 'outbound', expectNodeId, remoteAddress }),
    })
  }

  /** After listen(): `memory:<n>`. */
  get listenAddr(): string {
    return this.bound ?? ''
  }

  async listen(): Promise<string> {
    if (this.bound !== undefined) throw new InvalidArgumentError('the transport is already listening')
    if (this.closing) throw new ConnectionClosedError('the transport is closed')
    this.bound = this.network.listen(this.port, (stream) => this.onInbound(stream))
    this.opts.logger.info({ addr: this.bound, nodeId: this.nodeId, memory: true }, 'listening')
    return this.bound
  }

  handle(handler: RequestHandler): void {
    this.handler = handler
  }

  peers(): Peer[] {
    return this.connections.list()
  }

  peer(nodeId: string): Peer | undefined {
    return this.connections.get(nodeId)
  }

  dial(addr: string, opts: DialOptions = {}): Promise<Peer> {
    if (this.closing) return Promise.reject(new ConnectionClosedError('the transport is closed'))
    parseMemoryAddress(addr)
    return this.dialler.dial(addr, opts, async (signal) => ({
      stream: await this.network.connect(addr, this.bound ?? UNBOUND, signal),
      remoteAddress: addr,
    }))
  }

  async close(): Promise<void> {
    this.closing = true
    if (this.bound !== undefined) this.network.unlisten(this.bound)
    await Promise.all([this.connections.closeAll('the transport is closing'), this.pending.destroyAll()])
  }

  private onInbound(stream: MemoryDuplex): void {
    if (this.closing) {
      stream.destroy()
      return
    }
    // A failed handshake is logged by the upgrade; the dialler learns of it from its own side.
    this.upgrader
      .upgrade(stream, { direction: 'inbound', expectNodeId: undefined, remoteAddress: stream.remoteAddress })
      .catch(() => {})
  }
}
