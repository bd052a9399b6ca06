import type { KeyObject } from 'node:crypto'
import { HandshakeError } from './errors.js'
import { type Hello, type Message, type OutgoingHello, type OutgoingMessage, PROTOCOL } from './messages.js'

/** Signs with the owner's Ed25519 key; p2p never sees the key itself. */
export interface OwnerSigner {
  /** SPKI DER of the owner's Ed25519 public key. */
  publicKeyDer: Uint8Array
  sign(data: Uint8Array): Uint8Array
}

/** What a handshake knows and may do; the transport builds it for each connection. */
export interface HandshakeContext {
  readonly direction: 'inbound' | 'outbound'
  readonly local: {
    readonly nodeId: string
    readonly listenAddr: string | undefined
    readonly owner: OwnerSigner | undefined
    readonly networkKey: Uint8Array | undefined
    /** The node certificate's private key and public key (SPKI DER), to prove the nodeId without TLS. */
    readonly nodeKey: KeyObject
    readonly nodePubDer: Uint8Array
  }
  /** Present on TLS connections: the peer certificate's nodeId and 32 bytes of exported keying material. */
  readonly tls: { readonly peerNodeId: string; readonly keyingMaterial: Uint8Array } | undefined
  send(message: OutgoingMessage): Promise<void>
  /** The next frame from the peer. */
  receive(): Promise<Message>
}

export interface HandshakeResult {
  nodeId: string
  listenAddr: string | undefined
  ownerPub: Uint8Array | undefined
}

/**
 * Authenticates one new connection. The transport adds the checks every
 * handshake needs: the deadline, self-connections, the TLS certificate's
 * nodeId and a dialer's expected nodeId.
 */
export type HandshakeFunc = (ctx: HandshakeContext) => Promise<HandshakeResult>

/** Receives the next frame and requires it to be a hello of our protocol version. */
export async function receiveHello(ctx: HandshakeContext): Promise<Hello> {
  const msg = await ctx.receive()
  if (msg.type === 'error') throw new HandshakeError('rejected', `the peer refused us: ${msg.message}`)
  if (msg.type === 'network') {
    throw new HandshakeError(
      'network-key',
      'the peer is on a private network: it asks for a network key this node lacks',
    )
  }
  if (msg.type !== 'hello') throw new HandshakeError('protocol', `expected hello, got ${msg.type}`)
  if (msg.proto !== PROTOCOL)
    throw new HandshakeError('version', `peer speaks ${msg.proto}, we speak ${PROTOCOL}`)
  return msg
}

/**
 * Exchanges nodeIds and listen addresses and proves nothing: for tests and
 * trusted embeddings only. Over TLS the transport still checks the nodeId
 * against the certificate.
 */
export const nopHandshake: HandshakeFunc = async (ctx) => {
  const hello: OutgoingHello = {
    type: 'hello',
    proto: PROTOCOL,
    nodeId: ctx.local.nodeId,
    sig: new Uint8Array(0),
  }
  if (ctx.local.listenAddr !== undefined) hello.listenAddr = ctx.local.listenAddr
  const [, peer] = await Promise.all([ctx.send(hello), receiveHello(ctx)])
  return { nodeId: peer.nodeId, listenAddr: peer.listenAddr, ownerPub: undefined }
}
