import { createPrivateKey, type KeyObject } from 'node:crypto'
import type { Duplex } from 'node:stream'
import { type SecureContext, TLSSocket } from 'node:tls'
import { TLS_EXPORTER_LABEL } from './cas-handshake.js'
import type { ResolvedConnectionOptions } from './connection-options.js'
import type { ConnectionSet } from './connection-set.js'
import {
  ConnectionClosedError,
  describeError,
  describeErrorForPeer,
  HandshakeError,
  InvalidArgumentError,
} from './errors.js'
import { FramedSocket } from './framed-socket.js'
import type { HandshakeContext } from './handshake.js'
import { certificateSpki, nodeIdOf } from './node-identity.js'
import type { PendingSockets } from './pending-sockets.js'
import { waitSecure } from './socket-connect.js'
import type { Peer } from './transport.js'

export interface UpgradeOptions {
  connections: ConnectionSet
  pending: PendingSockets
  /** The address this node announces in its hello, once it listens. */
  listenAddr(): string | undefined
  isClosing(): boolean
  /** TLS 1.3 before the handshake; outbound streams must then come from tls.connect. */
  secureContext?: SecureContext | undefined
}

export interface UpgradeTarget {
  direction: 'inbound' | 'outbound'
  /** Refuse the connection unless the peer proves this nodeId. */
  expectNodeId: string | undefined
  /** The other end's address as the stream shows it, for Peer.remoteAddress and logs. */
  remoteAddress: string
  /** True when a failure was already accounted for (an evicted handshake): it is not logged again. */
  quiet?: () => boolean
}

/**
 * Turns a fresh byte stream into a connection: TLS (when configured), the handshake, the checks
 * every handshake needs (self, expected nodeId, the certificate's nodeId), and the duplicate
 * tie-break, all under one deadline. The stream is the transport's business; from here on
 * everything is the same whatever carries the bytes.
 */
export class ConnectionUpgrade {
  readonly nodeId: string
  readonly #nodeKey: KeyObject
  readonly #nodePubDer: Buffer

  constructor(
    private readonly opts: ResolvedConnectionOptions,
    private readonly parts: UpgradeOptions,
  ) {
    const { identity } = opts
    this.#nodePubDer = certificateSpki(identity.certPem)
    this.nodeId = nodeIdOf(this.#nodePubDer)
    if (identity.nodeId !== this.nodeId)
      throw new InvalidArgumentError('identity.nodeId does not match its certificate')
    this.#nodeKey = createPrivateKey(identity.keyPem)
  }

  /**
   * Resolves with the connection to the peer (perhaps another one, which won the tie-break);
   * on failure, logs, tells the peer why when it can, and closes the stream.
   */
  async upgrade(raw: Duplex, target: UpgradeTarget): Promise<Peer> {
    this.parts.pending.add(raw)
    if (this.parts.isClosing()) raw.destroy()
    const { handshakeTimeout, logger } = this.opts
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new HandshakeError('timeout', `no handshake within ${handshakeTimeout} ms`)),
        handshakeTimeout,
      )
    })
    const state: { framed: FramedSocket | undefined } = { framed: undefined }
    try {
      return await Promise.race([this.establish(raw, target, state), deadline])
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
      if (!target.quiet?.()) {
        logger.warn(
          {
            err: error,
            code: describeError(error).code,
            direction: target.direction,
            remote: target.remoteAddress,
          },
          'connection refused',
        )
      }
      throw error
    } finally {
      clearTimeout(timer)
    }
  }

  private async establish(
    raw: Duplex,
    target: UpgradeTarget,
    state: { framed: FramedSocket | undefined },
  ): Promise<Peer> {
    const { direction, expectNodeId } = target
    const { socket, tls } = await this.secure(raw, direction, expectNodeId)
    const { codec, maxFrameSize, requestTimeout, handshake } = this.opts
    const framed = new FramedSocket(socket, codec, maxFrameSize, requestTimeout)
    state.framed = framed
    const ctx: HandshakeContext = {
      direction,
      local: {
        nodeId: this.nodeId,
        listenAddr: this.parts.listenAddr() || undefined,
        owner: this.opts.owner,
        networkKey: this.opts.networkKey,
        nodeKey: this.#nodeKey,
        nodePubDer: this.#nodePubDer,
      },
      tls,
      send: (m) => framed.send(m),
      receive: () => framed.receive(),
    }
    const result = await handshake(ctx)
    const remote = result.nodeId
    if (tls && remote !== tls.peerNodeId)
      throw new HandshakeError('node-id', 'the hello names another node than the certificate')
    if (remote === this.nodeId) throw new HandshakeError('self', 'connected to ourselves')
    if (expectNodeId !== undefined && remote !== expectNodeId) {
      throw new HandshakeError('unexpected-node-id', `expected node ${expectNodeId}, reached ${remote}`)
    }
    const survivor = await this.tieBreak(framed, remote)
    if (survivor) return survivor
    this.parts.pending.delete(raw)
    this.parts.pending.delete(socket)
    return this.parts.connections.add(framed, result, direction, target.remoteAddress)
  }

  /** TLS when configured: resolves with the stream to frame and what the handshake binds to. */
  private async secure(
    raw: Duplex,
    direction: 'inbound' | 'outbound',
    expectNodeId: string | undefined,
  ): Promise<{ socket: Duplex; tls: HandshakeContext['tls'] }> {
    const { secureContext } = this.parts
    if (!secureContext) return { socket: raw, tls: undefined }
    let secure: TLSSocket
    if (direction === 'inbound') {
      secure = new TLSSocket(raw, {
        isServer: true,
        secureContext,
        requestCert: true,
        rejectUnauthorized: false,
      })
      this.parts.pending.add(secure)
    } else if (raw instanceof TLSSocket) {
      secure = raw
    } else {
      throw new InvalidArgumentError('an outbound TLS connection must be opened by tls.connect')
    }
    await waitSecure(secure, direction)
    const cert = secure.getPeerX509Certificate()
    if (!cert) throw new HandshakeError('certificate', 'the peer presented no certificate')
    const peerNodeId = nodeIdOf(cert.publicKey.export({ type: 'spki', format: 'der' }))
    if (expectNodeId !== undefined && peerNodeId !== expectNodeId) {
      throw new HandshakeError('unexpected-node-id', `expected node ${expectNodeId}, reached ${peerNodeId}`)
    }
    const keyingMaterial = secure.exportKeyingMaterial(32, TLS_EXPORTER_LABEL, Buffer.alloc(0))
    return { socket: secure, tls: { peerNodeId, keyingMaterial } }
  }

  /**
   * Both sides must accept before either registers, and of two connections between one pair,
   * the node with the smaller nodeId decides which survives (the first one it finishes); the
   * other side follows its word. Resolves with the surviving connection when this one lost,
   * undefined when this one is to be added.
   */
  private async tieBreak(framed: FramedSocket, remote: string): Promise<Peer | undefined> {
    const { connections } = this.parts
    if (this.nodeId < remote) {
      const accepted = await framed.receive()
      if (accepted.type === 'error')
        throw new HandshakeError('rejected', `the peer refused us: ${accepted.message}`)
      if (accepted.type !== 'ready')
        throw new HandshakeError('protocol', `expected ready, got ${accepted.type}`)
      const existing = connections.open(remote)
      if (existing) {
        framed.sendNow({ type: 'error', id: 0, code: 'ERR_DUPLICATE', message: 'already connected' })
        framed.close(new HandshakeError('duplicate', 'already connected to this node'), true)
        return existing
      }
      framed.sendNow({ type: 'ready' })
      return undefined
    }
    framed.sendNow({ type: 'ready' })
    const verdict = await framed.receive()
    if (verdict.type === 'error' && verdict.code === 'ERR_DUPLICATE') {
      framed.close(new HandshakeError('duplicate', 'the peer kept another connection'), true)
      return connections.waitFor(remote, this.opts.handshakeTimeout)
    }
    if (verdict.type === 'error')
      throw new HandshakeError('rejected', `the peer refused us: ${verdict.message}`)
    if (verdict.type !== 'ready') throw new HandshakeError('protocol', `expected ready, got ${verdict.type}`)
    connections.get(remote)?.abort(new ConnectionClosedError('replaced by a newer connection'))
    return undefined
  }
}
