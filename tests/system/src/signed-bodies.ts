import { createHash, createPublicKey, generateKeyPairSync, sign as signRaw } from 'node:crypto'
import { type OwnerKey, sign } from '@cas/crypto'

/**
 * Application bodies of the FileServer protocol (packages/server README, "Authorisation"),
 * built by hand so that a test can sign them with any key it likes: the right owner's,
 * another owner's, or none that matches.
 */
function actionPayload(
  action: 'store' | 'delete',
  f: { ownerId: string; locator: string; issuedAt: number; size?: number },
): Uint8Array {
  const parts = [`cas/${action}/1`, f.ownerId, f.locator, String(f.issuedAt)]
  if (action === 'store') parts.push(String(f.size ?? 0))
  return new TextEncoder().encode(parts.join('\n'))
}

/** A `store` request for `ownerId`'s namespace, signed by `signer` (who may not own it). */
export function storeBody(
  signer: OwnerKey,
  f: { ownerId: string; locator: string; size: number; issuedAt?: number },
) {
  const issuedAt = f.issuedAt ?? Date.now()
  const sig = sign(signer, actionPayload('store', { ...f, issuedAt }))
  return {
    op: 'store',
    ownerId: f.ownerId,
    locator: f.locator,
    size: f.size,
    issuedAt,
    ownerPub: signer.publicKeyDer,
    sig,
  }
}

/** A `delete` request for `ownerId`'s namespace, signed by `signer`; `ownerPub` may claim another key. */
export function deleteBody(
  signer: OwnerKey,
  f: { ownerId: string; locator: string; issuedAt?: number; ownerPub?: Uint8Array },
) {
  const issuedAt = f.issuedAt ?? Date.now()
  const sig = sign(signer, actionPayload('delete', { ...f, issuedAt }))
  return {
    op: 'delete',
    ownerId: f.ownerId,
    locator: f.locator,
    issuedAt,
    ownerPub: f.ownerPub ?? signer.publicKeyDer,
    sig,
  }
}

/**
 * `count` validly signed peer records of nodes that do not exist, all pointing at `addr`
 * (a loopback port nobody listens on): what a peer flooding the peer book would send.
 */
export function fakePeerRecords(count: number, addr: string) {
  const seq = Date.now()
  const records = []
  for (let i = 0; i < count; i++) {
    const { privateKey } = generateKeyPairSync('ed25519')
    const nodePub = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
    const nodeId = createHash('sha256').update(nodePub).digest('hex')
    const payload = new TextEncoder().encode(['cas/peer/1', nodeId, String(seq), addr].join('\n'))
    records.push({ nodeId, addrs: [addr], seq, nodePub, sig: signRaw(null, payload, privateKey) })
  }
  return records
}
