import {
  createHash,
  createHmac,
  createPublicKey,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto'
import { HandshakeError } from './errors.js'
import { type HandshakeContext, type HandshakeFunc, receiveHello } from './handshake.js'
import { type OutgoingHello, PROTOCOL } from './messages.js'
import { nodeIdOf } from './node-identity.js'

/** The label for TLS exported keying material that binds a handshake to its session. */
export const TLS_EXPORTER_LABEL = 'EXPORTER-cas/1'
const NONCE_SIZE = 32

type Role = 'dialer' | 'listener'

/**
 * The authenticated cas/1 handshake. Each side sends one `hello` whose
 * signatures cover a transcript bound to this session (TLS exported keying
 * material, or on plain TCP the hash of both sides' fresh nonces) and to the
 * signer's role, so that a hello can be neither replayed nor reflected:
 * - `sig`: the owner key over the transcript (empty when the node has no owner);
 * - on plain TCP, `nodePub` + `nodeSig` prove the nodeId, which TLS proves by certificate;
 * - `netProof`: HMAC(networkKey, transcript), which a node without the key cannot give.
 */
export const casHandshake: HandshakeFunc = async (ctx) => {
  const binding = ctx.tls ? ctx.tls.keyingMaterial : await exchangeNonces(ctx)
  const mine: Role = ctx.direction === 'outbound' ? 'dialer' : 'listener'
  const theirs: Role = mine === 'dialer' ? 'listener' : 'dialer'
  const { local } = ctx
  // A private network: each side proves the key for this session before either says who it is, so a
  // node without the key learns no node's hello (owner key, listen address).
  if (local.networkKey) await exchangeNetworkProofs(ctx, local.networkKey, binding, mine, theirs)

  const ownerPub = local.owner ? Buffer.from(local.owner.publicKeyDer) : undefined
  const t = transcript(binding, mine, local.nodeId, local.listenAddr, ownerPub)
  const hello: OutgoingHello = {
    type: 'hello',
    proto: PROTOCOL,
    nodeId: local.nodeId,
    sig: local.owner ? Buffer.from(local.owner.sign(t)) : Buffer.alloc(0),
  }
  if (local.listenAddr !== undefined) hello.listenAddr = local.listenAddr
  if (ownerPub) hello.ownerPub = ownerPub
  if (!ctx.tls) {
    hello.nodePub = Buffer.from(local.nodePubDer)
    hello.nodeSig = sign(null, t, local.nodeKey)
  }
  if (local.networkKey) hello.netProof = netProof(local.networkKey, t)

  const [, peer] = await Promise.all([ctx.send(hello), receiveHello(ctx)])
  const pt = transcript(binding, theirs, peer.nodeId, peer.listenAddr, peer.ownerPub)

  if (ctx.tls) {
    if (peer.nodeId !== ctx.tls.peerNodeId)
      throw new HandshakeError('node-id', 'the hello names another node than the certificate')
  } else {
    if (!peer.nodePub || !peer.nodeSig)
      throw new HandshakeError('node-id', 'the hello carries no node key proof')
    if (nodeIdOf(peer.nodePub) !== peer.nodeId)
      throw new HandshakeError('node-id', 'the node key does not hash to the nodeId')
    if (!verifyEd25519(peer.nodePub, pt, peer.nodeSig))
      throw new HandshakeError('signature', 'bad node key signature')
  }
  if (peer.ownerPub) {
    if (!verifyEd25519(peer.ownerPub, pt, peer.sig))
      throw new HandshakeError('signature', 'bad owner signature')
  } else if (peer.sig.length > 0) {
    throw new HandshakeError('signature', 'an owner signature without an owner key')
  }
  if (local.networkKey) {
    const expected = netProof(local.networkKey, pt)
    if (
      !peer.netProof ||
      peer.netProof.length !== expected.length ||
      !timingSafeEqual(peer.netProof, expected)
    ) {
      throw new HandshakeError('network-key', 'the peer did not prove the network key')
    }
  }
  return { nodeId: peer.nodeId, listenAddr: peer.listenAddr, ownerPub: peer.ownerPub }
}

async function exchangeNetworkProofs(
  ctx: HandshakeContext,
  key: Uint8Array,
  binding: Uint8Array,
  mine: Role,
  theirs: Role,
): Promise<void> {
  const proofOf = (role: Role) =>
    createHmac('sha256', key)
      .update('cas/1 network gate\0')
      .update(binding)
      .update(role === 'dialer' ? 'd' : 'l')
      .digest()
  const [, msg] = await Promise.all([ctx.send({ type: 'network', proof: proofOf(mine) }), ctx.receive()])
  if (msg.type === 'error') throw new HandshakeError('rejected', `the peer refused us: ${msg.message}`)
  const expected = proofOf(theirs)
  if (
    msg.type !== 'network' ||
    msg.proof.length !== expected.length ||
    !timingSafeEqual(msg.proof, expected)
  ) {
    throw new HandshakeError('network-key', 'the peer did not prove the network key')
  }
}

async function exchangeNonces(ctx: HandshakeContext): Promise<Buffer> {
  const nonce = randomBytes(NONCE_SIZE)
  const [, msg] = await Promise.all([ctx.send({ type: 'challenge', nonce }), ctx.receive()])
  if (msg.type === 'error') throw new HandshakeError('rejected', `the peer refused us: ${msg.message}`)
  if (msg.type !== 'challenge' || msg.nonce.length !== NONCE_SIZE) {
    throw new HandshakeError('protocol', `expected a ${NONCE_SIZE}-byte challenge, got ${msg.type}`)
  }
  const [first, second] = ctx.direction === 'outbound' ? [nonce, msg.nonce] : [msg.nonce, nonce]
  return createHash('sha256').update('cas/1 nonces\0').update(first).update(second).digest()
}

function transcript(
  binding: Uint8Array,
  role: Role,
  nodeId: string,
  listenAddr: string | undefined,
  ownerPub: Uint8Array | undefined,
): Buffer {
  const h = createHash('sha256')
    .update('cas/1 hello\0')
    .update(binding)
    .update(role === 'dialer' ? 'd' : 'l')
  for (const field of [Buffer.from(nodeId), Buffer.from(listenAddr ?? ''), ownerPub ?? Buffer.alloc(0)]) {
    const len = Buffer.alloc(2)
    len.writeUInt16BE(field.length)
    h.update(len).update(field)
  }
  return h.digest()
}

function netProof(key: Uint8Array, t: Uint8Array): Buffer {
  return createHmac('sha256', key).update('cas/1 network\0').update(t).digest()
}

function verifyEd25519(publicKeyDer: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' })
    return key.asymmetricKeyType === 'ed25519' && verify(null, data, key, signature)
  } catch {
    return false
  }
}
