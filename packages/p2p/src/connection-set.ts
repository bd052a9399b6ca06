import type { EventEmitter } from 'node:events'
import { Budget } from './budget.js'
import type { ResolvedConnectionOptions } from './connection-options.js'
import { describeError, HandshakeError } from './errors.js'
import type { FramedSocket } from './framed-socket.js'
import type { HandshakeResult } from './handshake.js'
import { PeerConnection } from './peer-connection.js'
import type { Peer, RequestHandler } from './transport.js'

/**
 * A transport's connections, one per node: it turns an upgraded stream into a PeerConnection
 * under the node-wide budgets, and emits `peer` when one joins and `peer:close` when it leaves.
 */
export class ConnectionSet {
  readonly #conns = new Map<string, PeerConnection>()
  /** Buffered inbound bytes of streamed requests, over every connection (maxInboundBufferTotal). */
  readonly #inboundBudget: Budget
  /** Streamed answers in progress, over every connection (maxResponseStreamsTotal). */
  readonly #responseStreams: Budget

  constructor(
    private readonly opts: ResolvedConnectionOptions,
    /** Where `peer` and `peer:close` are emitted: the transport itself. */
    private readonly events: EventEmitter,
    private readonly handler: () => RequestHandler | undefined,
  ) {
    this.#inboundBudget = new Budget(opts.maxInboundBufferTotal)
    this.#responseStreams = new Budget(opts.maxResponseStreamsTotal)
  }

  get(nodeId: string): PeerConnection | undefined {
    return this.#conns.get(nodeId)
  }

  /** The connection to `nodeId` if it is open. */
  open(nodeId: string): PeerConnection | undefined {
    const conn = this.#conns.get(nodeId)
    return conn?.isOpen ? conn : undefined
  }

  list(): PeerConnection[] {
    return [...this.#conns.values()]
  }

  /** Makes an upgraded stream the connection to its node; an older one must be gone or going. */
  add(
    framed: FramedSocket,
    hello: HandshakeResult,
    direction: 'inbound' | 'outbound',
    remoteAddress: string,
  ): PeerConnection {
    const { logger } = this.opts
    const conn = new PeerConnection(framed, {
      nodeId: hello.nodeId,
      listenAddr: hello.listenAddr,
      ownerPub: hello.ownerPub,
      direction,
      remoteAddress,
      handler: this.handler,
      maxInflightRequests: this.opts.maxInflightRequests,
      inboundBudget: new Budget(this.opts.maxInboundBuffer),
      nodeInboundBudget: this.#inboundBudget,
      responseStreams: new Budget(this.opts.maxResponseStreams),
      nodeResponseStreams: this.#responseStreams,
      requestTimeout: this.opts.requestTimeout,
      pingInterval: this.opts.pingInterval,
      idleTimeout: this.opts.idleTimeout,
      chunkSize: this.opts.chunkSize,
      logger,
    })
    this.#conns.set(conn.nodeId, conn)
    logger.debug({ nodeId: conn.nodeId, direction, remote: remoteAddress }, 'peer connected')
    void conn.closed.then((reason) => {
      if (this.#conns.get(conn.nodeId) === conn) this.#conns.delete(conn.nodeId)
      const { code } = describeError(reason)
      const level = code === 'ERR_CONNECTION_CLOSED' ? 'debug' : 'warn'
      logger[level]({ nodeId: conn.nodeId, err: reason, code }, 'peer disconnected')
      this.events.emit('peer:close', conn, reason)
    })
    this.events.emit('peer', conn)
    return conn
  }

  /** The connection to `nodeId` once it is added; rejects after `timeout` ms without one. */
  waitFor(nodeId: string, timeout: number): Promise<Peer> {
    const existing = this.#conns.get(nodeId)
    if (existing) return Promise.resolve(existing)
    return new Promise((resolve, reject) => {
      const onPeer = (peer: Peer): void => {
        if (peer.nodeId !== nodeId) return
        clearTimeout(timer)
        this.events.off('peer', onPeer)
        resolve(peer)
      }
      const timer = setTimeout(() => {
        this.events.off('peer', onPeer)
        reject(new HandshakeError('duplicate', 'the connection the peer kept never arrived'))
      }, timeout)
      this.events.on('peer', onPeer)
    })
  }

  /** Closes every connection gracefully; resolves once all have closed. */
  async closeAll(reason: string): Promise<void> {
    const conns = this.list()
    for (const conn of conns) conn.close(reason)
    await Promise.all(conns.map((c) => c.closed))
  }
}
