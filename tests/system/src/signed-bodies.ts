import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign as signRaw } from 'node:crypto'
import { type OwnerKey, sign } from '@cas/crypto'

/**
 * Application bodies of the FileServer protocol (packages/server README, "Authorisation"),
 * built by hand so that a test can sign them with any key it likes: the right owner's,
 * another owner's, or none that matches.
 */
function actionPayload(
  action: 'delete',
  f: { ownerId: string; locator: string; issuedAt: number },
): Uint8Array {
  const parts = [`cas/${action}/1`, f.ownerId, f.locator, String(f.issuedAt)]
  return new TextEncoder().encode(parts.join('\n'))
}

/**
 * A replica commit (docs/decisions.md "Object format 2") for `ownerId`'s namespace, built by hand and
 * signed by `signer`, who may not own it: `"CASC" | 2 | ownerId | locator | issuedAt u64be | count u32be
 * | (length u32be | sha256) × count | keyBox[60] | manifestBoxLength u32be | manifestBox`, in its signed
 * form `u32be length | commit | u16be pubLength | ownerPub | u16be sigLength | sig | u16be batchSize
 * | u16be index | proof`, here a batch of one (size 1, index 0, no proof), whose signature is over
 * `"cas/commit-batch/2\n" | u16be 1 | SHA-256(0x00 | "cas/commit/2\n" | commit)`. The key and manifest
 * boxes are random bytes: a holder cannot open them and does not try.
 */
export function signedCommit(
  signer: OwnerKey,
  f: { ownerId: string; locator: string; chunks: Uint8Array[]; issuedAt?: number },
): Buffer {
  const fixed = Buffer.alloc(81)
  fixed.write('CASC', 0, 'latin1')
  fixed[4] = 2
  Buffer.from(f.ownerId, 'hex').copy(fixed, 5)
  Buffer.from(f.locator, 'hex').copy(fixed, 37)
  const issuedAt = f.issuedAt ?? Date.now()
  fixed.writeUInt32BE(Math.floor(issuedAt / 2 ** 32), 69)
  fixed.writeUInt32BE(issuedAt >>> 0, 73)
  fixed.writeUInt32BE(f.chunks.length, 77)
  const entries = f.chunks.map((c) => {
    const e = Buffer.alloc(36)
    e.writeUInt32BE(c.byteLength, 0)
    createHash('sha256').update(c).digest().copy(e, 4)
    return e
  })
  const mLen = Buffer.alloc(4)
  mLen.writeUInt32BE(64, 0)
  const commit = Buffer.concat([fixed, ...entries, randomBytes(60), mLen, randomBytes(64)])
  const leaf = createHash('sha256')
    .update(Buffer.from([0]))
    .update('cas/commit/2\n')
    .update(commit)
    .digest()
  const sig = sign(signer, Buffer.concat([Buffer.from('cas/commit-batch/2\n'), Buffer.from([0, 1]), leaf]))
  return signedForm(commit, signer.publicKeyDer, sig)
}

function signedForm(commit: Buffer, ownerPub: Uint8Array, sig: Uint8Array): Buffer {
  const u32 = Buffer.alloc(4)
  u32.writeUInt32BE(commit.byteLength, 0)
  const p = Buffer.alloc(2)
  p.writeUInt16BE(ownerPub.byteLength, 0)
  const q = Buffer.alloc(2)
  q.writeUInt16BE(sig.byteLength, 0)
  // a batch of one: size 1, index 0, no proof
  return Buffer.concat([u32, commit, p, ownerPub, q, sig, Buffer.from([0, 1, 0, 0])])
}

/** The chunk lengths a signed commit lists, read from its documented layout. */
export function commitChunkLengths(signed: Buffer): number[] {
  const commit = signed.subarray(4, 4 + signed.readUInt32BE(0))
  const count = commit.readUInt32BE(77)
  return Array.from({ length: count }, (_, i) => commit.readUInt32BE(81 + i * 36))
}

/** The data of a `store` request: `type u8 | length u32be | payload` records, chunks then the commit. */
export function storeRecords(chunks: Uint8Array[], signed: Uint8Array): Buffer {
  const record = (type: number, payload: Uint8Array) => {
    const head = Buffer.alloc(5)
    head[0] = type
    head.writeUInt32BE(payload.byteLength, 1)
    return [head, payload]
  }
  return Buffer.concat([...chunks.flatMap((c) => record(1, c)), ...record(2, signed)])
}

/** The head of a `store` request (its replica follows as `storeRecords`). */
export function storeBody(ownerId: string) {
  return { op: 'store', v: 2, ownerId }
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
    // The signed payload of a peer record (packages/server peer-record.ts): JSON of its fields.
    const payload = new TextEncoder().encode(JSON.stringify(['cas/peer/2', nodeId, seq, [addr]]))
    records.push({ nodeId, addrs: [addr], seq, nodePub, sig: signRaw(null, payload, privateKey) })
  }
  return records
}
