import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto'
import { type NodeIdentity, nodeIdOf } from '@cas/p2p'
import type { PeerRecord } from './protocol/messages.js'

/**
 * What a record's signature covers. JSON keeps field boundaries whatever the fields hold: addresses
 * joined with a separator could be re-split (["a", "b"] and ["a\nb"] would sign alike).
 */
function payload(nodeId: string, seq: number, addrs: string[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(['cas/peer/2', nodeId, seq, addrs]))
}

/** Signs this node's record with its certificate key, so anyone can check it against the node id. */
export class PeerRecordSigner {
  readonly #key: KeyObject
  readonly #pub: Uint8Array
  readonly nodeId: string

  constructor(identity: NodeIdentity) {
    this.#key = createPrivateKey(identity.keyPem)
    this.#pub = new Uint8Array(createPublicKey(this.#key).export({ format: 'der', type: 'spki' }))
    this.nodeId = nodeIdOf(this.#pub)
  }

  sign(addrs: string[], seq: number): PeerRecord {
    const sig = sign(null, payload(this.nodeId, seq, addrs), this.#key)
    return { nodeId: this.nodeId, addrs, seq, nodePub: this.#pub, sig: new Uint8Array(sig) }
  }
}

/** True when the record's key hashes to its node id and signed exactly these fields. */
export function verifyPeerRecord(rec: PeerRecord): boolean {
  try {
    if (nodeIdOf(rec.nodePub) !== rec.nodeId) return false
    const key = createPublicKey({ key: Buffer.from(rec.nodePub), format: 'der', type: 'spki' })
    return verify(null, payload(rec.nodeId, rec.seq, rec.addrs), key, rec.sig)
  } catch {
    return false
  }
}

/** A copy detached from the decoded frame (msgpack binary fields are views into it). */
export function copyRecord(rec: PeerRecord): PeerRecord {
  return { ...rec, addrs: [...rec.addrs], nodePub: new Uint8Array(rec.nodePub), sig: new Uint8Array(rec.sig) }
}
