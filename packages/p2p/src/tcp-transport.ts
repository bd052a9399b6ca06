import { createPrivateKey, type KeyObject } from 'node:crypto'
import { EventEmitter, once } from 'node:events'
import { type AddressInfo, createServer, isIP, type Server, type Socket } from 'node:net'
import { createSecureContext, type SecureContext, TLSSocket } from 'node:tls'
import { formatAddress, parseAddress } from './address.js'
import { addressGroup, isLoopback } from './address-group.js'
import { backoffDelay, sleep } from './backoff.js'
import { Budget } from './budget.js'
import { TLS_EXPORTER_LABEL } from './cas-handshake.js'
import {
  AbortedError,
  ConnectionClosedError,
  describeError,
  describeErrorForPeer,
  HandshakeError,
  InvalidArgumentError,
} from './errors.js'
import { FramedSocket } from './framed-socket.js'
import type { HandshakeContext, HandshakeFunc } from './handshake.js'
import { certificateSpki, nodeIdOf } from './node-identity.js'
import { MAX_CHUNK_SIZE, STREAM_WINDOW } from './options.js'
import { PeerConnection } from './peer-connection.js'
import { openSocket, waitSecure } from './socket-connect.js'
import { type ResolvedOptions, resolveOptions, type TcpTransportOptions } from './tcp-transport-options.js'
import type { DialOptions, Peer, RequestHandler, Transport } from './transport.js'

/** Least milliseconds between two log lines about refused inbound connections. */
const REFUSAL_LOG_INTERVAL = 1_000

/** The Transport over node:net, optionally TLS 1.3. */
export class TcpTransport extends EventEmitter implements Transport {
  readonly nodeId: string
  private readonly opts: ResolvedOptions
  private readonly nodeKey: KeyObject
  private readonly nodePubDer: Buffer
  private readonly secureContext: SecureContext | undefined
  private server: Server | undefined
  private bound: string | undefined
  private handler: RequestHandler | undefined
  private readonly conns = new Map<string, PeerConnection>()
  /** Inbound sockets (in handshake or connected) per remote IP, and per address group (/24, /48). */
  private readonly inboundByAddress = new Map<string, number>()
  private readonly inboundByGroup = new Map<string, number>()
  /** Buffered inbound bytes of streamed requests, over every connection (maxInboundBufferTotal). */
  private readonly inboundBudget: Budget
  /** Streamed answers in progress, over every connection (maxResponseStreamsTotal). */
  private readonly responseStreams: Budget
  private readonly dialing = new Map<string, Promise<Peer>>()
  private readonly sockets = new Set<Socket>()
  private inbound = 0
  private pendingInbound = 0
  private refusedInbound = 0
  /** Inbound sockets still in their handshake, oldest first, with what frees their slots. */
  private readonly pending = new Map<Socket, () => void>()
  /** Handshakes dropped to make room: refuse() logged them already, in its rate-limited way. */
  private readonly evicted = new WeakSet<Socket>()
  private refusedSinceLog = 0
  private lastRefusalLog = 0
  private lastRefusal: { remote: string; limit: string } | undefined
  private refusalLogTimer: NodeJS.Timeout | undefined
  private closing = false

  constructor(options: TcpTransportOptions) {
    super()
    this.opts = resolveOptions(options)
    const { identity, chunkSize, maxFrameSize } = this.opts
    if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE || chunkSize + 64 > maxFrameSize) {
      throw new InvalidArgumentError(`chunkSize must be 1..${MAX_CHUNK_SIZE} and fit a frame of maxFrameSize`)
    }
    if (this.opts.maxInboundBuffer < STREAM_WINDOW || this.opts.maxInboundBufferTotal < STREAM_WINDOW) {
      throw new InvalidArgumentError(
        `maxInboundBuffer and maxInboundBufferTotal must hold a stream window (${STREAM_WINDOW} bytes)`,
      )
    }
    this.inboundBudget = new Budget(this.opts.maxInboundBufferTotal)
    this.responseStreams = new Budget(this.opts.maxResponseStreamsTotal)
    this.nodePubDer = certificateSpki(identity.certPem)
    this.nodeId = nodeIdOf(this.nodePubDer)
    if (identity.nodeId !== this.nodeId)
      throw new InvalidArgumentError('identity.nodeId does not match its certificate')
    this.nodeKey = createPrivateKey(identity.keyPem)
    if (this.opts.tls) {
      this.secureContext = createSecureContext({
        cert: identity.certPem,
        key: identity.keyPem,
        minVersion: 'TLSv1.3',
        maxVersion: 'TLSv1.3',
      })
    }
  }

  get listenAddr(): string {
    return this.opts.announceAddr ?? this.bound ?? ''
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
    this.opts.logger.info({ addr: this.bound, nodeId: this.nodeId, tls: this.opts.tls }, 'listening')
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
    return { connections: this.inbound, pendingHandshakes: this.pendingInbound, refused: this.refusedInbound }
  }

  peers(): Peer[] {
    return [...this.conns.values()]
  }

  peer(nodeId: string): Peer | undefined {
    return this.conns.get(nodeId)
  }

  dial(addr: string, opts: DialOptions = {}): Promise<Peer> {
    if (this.closing) return Promise.reject(new ConnectionClosedError('the transport is closed'))
    const { host, port } = parseAddress(addr)
    if (opts.expectNodeId !== undefined) {
      const existing = this.conns.get(opts.expectNodeId)
      if (existing?.isOpen) return Promise.resolve(existing)
    }
    // One dial at a time per address: two concurrent dials would only race each other.
    const key = `${addr}|${opts.expectNodeId ?? ''}`
    const pending = this.dialing.get(key)
    if (pending) return pending
    const p = this.dialWithRetries(host, port, opts).finally(() => this.dialing.delete(key))
    this.dialing.set(key, p)
    return p
  }

  async close(): Promise<void> {
    this.closing = true
    this.logRefusals()
    const server = this.server
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve()
    const conns = [...this.conns.values()]
    for (const conn of conns) conn.close('the transport is closing')
    // Sockets still here are in their handshake: nothing to flush.
    const pending = [...this.sockets]
    for (const s of pending) s.destroy()
    await Promise.all([
      ...conns.map((c) => c.closed),
      ...pending.map((s) => (s.closed ? undefined : once(s, 'close'))),
    ])
    await closed
  }

  private async dialWithRetries(host: string, port: number, opts: DialOptions): Promise<Peer> {
    const retries = opts.retries ?? this.opts.dialRetries
    for (let attempt = 0; ; attempt++) {
      if (opts.signal?.aborted) throw new AbortedError({ cause: opts.signal.reason })
      let socket: Socket
      try {
        socket = await openSocket(host, port, {
          secureContext: this.secureContext,
          timeout: this.opts.handshakeTimeout,
          signal: opts.signal,
          localAddress: this.sourceFor(host),
          track: (s) => this.track(s),
        })
      } catch (err) {
        if (attempt >= retries || this.closing || opts.signal?.aborted) throw err
        const wait = backoffDelay(attempt, this.opts.dialBackoff, this.opts.dialBackoffMax)
        this.opts.logger.debug(
          { err, addr: formatAddress(host, port), attempt, wait },
          'dial failed; retrying',
        )
        await sleep(wait, opts.signal)
        continue
      }
      return this.setup(socket, 'outbound', opts.expectNodeId)
    }
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
    if ((this.inboundByAddress.get(ip) ?? 0) >= this.opts.maxInboundPerAddress) {
      this.refuse(socket, 'maxInboundPerAddress')
      return
    }
    if ((this.inboundByGroup.get(group) ?? 0) >= this.opts.maxInboundPerGroup) {
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
    bump(this.inboundByAddress, ip, 1)
    bump(this.inboundByGroup, group, 1)
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
        bump(this.inboundByAddress, ip, -1)
        bump(this.inboundByGroup, group, -1)
      }
      counted = false
    }
    this.pending.set(socket, release)
    socket.once('close', release)
    this.setup(socket, 'inbound', undefined).then(settle, settle)
  }

  /** Closes an inbound socket at a limit; a flood of them is logged at most once a second, with a count. */
  private refuse(
    socket: Socket,
    limit: 'maxInboundConnections' | 'maxPendingHandshakes' | 'maxInboundPerAddress' | 'maxInboundPerGroup',
  ): void {
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

  private track(socket: Socket): void {
    // Failures surface through 'close' and the handshake; never let a late 'error' go unheard.
    socket.on('error', () => {})
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
  }

  /** Runs TLS, the handshake and the duplicate check under one deadline; logs and closes on failure. */
  private async setup(
    raw: Socket,
    direction: 'inbound' | 'outbound',
    expectNodeId: string | undefined,
  ): Promise<Peer> {
    if (direction === 'inbound') this.track(raw)
    if (this.closing) raw.destroy()
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new HandshakeError('timeout', `no handshake within ${this.opts.handshakeTimeout} ms`)),
        this.opts.handshakeTimeout,
      )
    })
    const state: { framed: FramedSocket | undefined } = { framed: undefined }
    try {
      return await Promise.race([this.establish(raw, direction, expectNodeId, state), deadline])
    } catch (err) {
      const error = err as Error
      if (state.framed) {
        // Tell the peer why, so that its dial fails with a reason rather than a bare close.
        const told = describeErrorForPeer(error)
        if (told.code === 'ERR_HANDSHAKE') state.framed.sendNow({ type: 'error', id: 0, ...told })
        state.framed.close(error, true)
      } else {
        raw.destroy()
      }
      if (!this.evicted.has(raw)) {
        this.opts.logger.warn(
          { err: error, code: describeError(error).code, direction, remote: remoteOf(raw) },
          'connection refused',
        )
      }
      throw error
    } finally {
      clearTimeout(timer)
    }
  }

  private async establish(
    raw: Socket,
    direction: 'inbound' | 'outbound',
    expectNodeId: string | undefined,
    state: { framed: FramedSocket | undefined },
  ): Promise<Peer> {
    let socket = raw
    let tls: HandshakeContext['tls']
    if (this.secureContext) {
      const secure =
        direction === 'outbound'
          ? (raw as TLSSocket)
          : new TLSSocket(raw, {
              isServer: true,
              secureContext: this.secureContext,
              requestCert: true,
              rejectUnauthorized: false,
            })
      if (secure !== raw) this.track(secure)
      await waitSecure(secure, direction)
      const cert = secure.getPeerX509Certificate()
      if (!cert) throw new HandshakeError('certificate', 'the peer presented no certificate')
      const peerNodeId = nodeIdOf(cert.publicKey.export({ type: 'spki', format: 'der' }))
      if (expectNodeId !== undefined && peerNodeId !== expectNodeId) {
        throw new HandshakeError('unexpected-node-id', `expected node ${expectNodeId}, reached ${peerNodeId}`)
      }
      tls = {
        peerNodeId,
        keyingMaterial: secure.exportKeyingMaterial(32, TLS_EXPORTER_LABEL, Buffer.alloc(0)),
      }
      socket = secure
    }
    // Credit and control frames are tiny: Nagle's algorithm would hold them back.
    raw.setNoDelay(true)
    const framed = new FramedSocket(socket, this.opts.codec, this.opts.maxFrameSize, this.opts.requestTimeout)
    state.framed = framed
    const ctx: HandshakeContext = {
      direction,
      local: {
        nodeId: this.nodeId,
        listenAddr: this.listenAddr || undefined,
        owner: this.opts.owner,
        networkKey: this.opts.networkKey,
        nodeKey: this.nodeKey,
        nodePubDer: this.nodePubDer,
      },
      tls,
      send: (m) => framed.send(m),
      receive: () => framed.receive(),
    }
    const result = await this.opts.handshake(ctx)
    const remote = result.nodeId
    if (tls && remote !== tls.peerNodeId)
      throw new HandshakeError('node-id', 'the hello names another node than the certificate')
    if (remote === this.nodeId) throw new HandshakeError('self', 'connected to ourselves')
    if (expectNodeId !== undefined && remote !== expectNodeId) {
      throw new HandshakeError('unexpected-node-id', `expected node ${expectNodeId}, reached ${remote}`)
    }
    // Both sides must accept before either registers, and of two connections
    // between one pair, the node with the smaller nodeId decides which survives
    // (the first one it finishes); the other side follows its word.
    if (this.nodeId < remote) {
      const accepted = await framed.receive()
      if (accepted.type === 'error')
        throw new HandshakeError('rejected', `the peer refused us: ${accepted.message}`)
      if (accepted.type !== 'ready')
        throw new HandshakeError('protocol', `expected ready, got ${accepted.type}`)
      const existing = this.conns.get(remote)
      if (existing?.isOpen) {
        framed.sendNow({ type: 'error', id: 0, code: 'ERR_DUPLICATE', message: 'already connected' })
        framed.close(new HandshakeError('duplicate', 'already connected to this node'), true)
        return existing
      }
      framed.sendNow({ type: 'ready' })
    } else {
      framed.sendNow({ type: 'ready' })
      const verdict = await framed.receive()
      if (verdict.type === 'error' && verdict.code === 'ERR_DUPLICATE') {
        framed.close(new HandshakeError('duplicate', 'the peer kept another connection'), true)
        return this.waitForPeer(remote)
      }
      if (verdict.type === 'error')
        throw new HandshakeError('rejected', `the peer refused us: ${verdict.message}`)
      if (verdict.type !== 'ready')
        throw new HandshakeError('protocol', `expected ready, got ${verdict.type}`)
      this.conns.get(remote)?.abort(new ConnectionClosedError('replaced by a newer connection'))
    }
    this.sockets.delete(raw)
    this.sockets.delete(socket)
    return this.register(framed, result, direction)
  }

  private register(
    framed: FramedSocket,
    result: Awaited<ReturnType<HandshakeFunc>>,
    direction: 'inbound' | 'outbound',
  ): PeerConnection {
    const { logger } = this.opts
    const conn = new PeerConnection(framed, {
      nodeId: result.nodeId,
      listenAddr: result.listenAddr,
      ownerPub: result.ownerPub,
      direction,
      handler: () => this.handler,
      maxInflightRequests: this.opts.maxInflightRequests,
      inboundBudget: new Budget(this.opts.maxInboundBuffer),
      nodeInboundBudget: this.inboundBudget,
      responseStreams: new Budget(this.opts.maxResponseStreams),
      nodeResponseStreams: this.responseStreams,
      requestTimeout: this.opts.requestTimeout,
      pingInterval: this.opts.pingInterval,
      idleTimeout: this.opts.idleTimeout,
      chunkSize: this.opts.chunkSize,
      logger,
    })
    this.conns.set(conn.nodeId, conn)
    logger.debug({ nodeId: conn.nodeId, direction, remote: conn.remoteAddress }, 'peer connected')
    void conn.closed.then((reason) => {
      if (this.conns.get(conn.nodeId) === conn) this.conns.delete(conn.nodeId)
      const { code } = describeError(reason)
      const level = code === 'ERR_CONNECTION_CLOSED' ? 'debug' : 'warn'
      logger[level]({ nodeId: conn.nodeId, err: reason, code }, 'peer disconnected')
      this.emit('peer:close', conn, reason)
    })
    this.emit('peer', conn)
    return conn
  }

  private waitForPeer(nodeId: string): Promise<Peer> {
    const existing = this.conns.get(nodeId)
    if (existing) return Promise.resolve(existing)
    return new Promise((resolve, reject) => {
      const onPeer = (peer: Peer): void => {
        if (peer.nodeId !== nodeId) return
        clearTimeout(timer)
        this.off('peer', onPeer)
        resolve(peer)
      }
      const timer = setTimeout(() => {
        this.off('peer', onPeer)
        reject(new HandshakeError('duplicate', 'the connection the peer kept never arrived'))
      }, this.opts.handshakeTimeout)
      this.on('peer', onPeer)
    })
  }
}

function remoteOf(socket: Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by
  if (n > 0) counts.set(key, n)
  else counts.delete(key)
}
