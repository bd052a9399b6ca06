import { createHash, timingSafeEqual } from 'node:crypto'
import { KEY_BOX_BYTES, MAX_OBJECT_CHUNK_SIZE, type OwnerKey, ownerIdOf, sign, verify } from '@cas/crypto'
import { BadRequestError, UnauthorizedError } from '../errors.js'

/**
 * A replica's commit: what the owner signs about one upload and what a holder
 * checks with no key at all. It names the replica (owner, locator), dates it,
 * and lists the length and SHA-256 of every ciphertext chunk, so a holder
 * keeps only the exact bytes the owner sealed. It also carries the object key
 * sealed for the owner and the sealed manifest, so a replica opens with the
 * owner key alone. Binary, fixed order, so its bytes are what is signed:
 *
 *   "CASC" | version u8 = 2 | ownerId[32] | locator[32] | issuedAt u64be | count u32be
 *   | (length u32be | sha256[32]) × count | keyBox[60] | manifestBoxLength u32be | manifestBox
 *
 * Signed form (as sent and stored): commitLength u32be | commit | pubLength u16be | ownerPub
 * | sigLength u16be | sig, with sig = Ed25519(owner, "cas/commit/2\n" ‖ commit).
 */
export const COMMIT_MAGIC = Buffer.from('CASC', 'latin1')
export const COMMIT_VERSION = 2
/** Most chunks one object may have: 128 GiB in 1 MiB chunks. */
export const MAX_CHUNKS = 128 * 1024
/** Largest signed commit accepted: bounds what a holder buffers before checking anything. */
export const MAX_SIGNED_COMMIT_BYTES = 12 * 1024 * 1024
const SIGN_LABEL = Buffer.from('cas/commit/2\n', 'utf8')
const FIXED_BYTES = 4 + 1 + 32 + 32 + 8 + 4

export interface CommitChunk {
  length: number
  hash: Uint8Array
}

export interface Commit {
  ownerId: string
  locator: string
  /** The owner's clock at the end of the put: newer wins, older is refused. */
  issuedAt: number
  chunks: CommitChunk[]
  keyBox: Uint8Array
  manifestBox: Uint8Array
}

export interface SignedCommit {
  commit: Commit
  ownerPub: Uint8Array
  sig: Uint8Array
  /** The signed form's bytes, as stored in the replica's trailer and sent as the last record. */
  bytes: Buffer
  /** SHA-256 of the commit bytes: the same upload has the same digest on every holder. */
  digest: string
  /** Sum of the chunk lengths: the replica's ciphertext bytes. */
  dataBytes: number
}

export function encodeCommit(c: Commit): Buffer {
  const count = c.chunks.length
  const out = Buffer.allocUnsafe(FIXED_BYTES + count * 36 + KEY_BOX_BYTES + 4 + c.manifestBox.byteLength)
  let at = COMMIT_MAGIC.copy(out, 0)
  out[at++] = COMMIT_VERSION
  at += Buffer.from(c.ownerId, 'hex').copy(out, at)
  at += Buffer.from(c.locator, 'hex').copy(out, at)
  out.writeUInt32BE(Math.floor(c.issuedAt / 2 ** 32), at)
  out.writeUInt32BE(c.issuedAt >>> 0, at + 4)
  out.writeUInt32BE(count, at + 8)
  at += 12
  for (const ch of c.chunks) {
    out.writeUInt32BE(ch.length, at)
    out.set(ch.hash, at + 4)
    at += 36
  }
  out.set(c.keyBox, at)
  at += KEY_BOX_BYTES
  out.writeUInt32BE(c.manifestBox.byteLength, at)
  out.set(c.manifestBox, at + 4)
  return out
}

/** Parses commit bytes; any malformation is a BadRequestError (it came from a peer or a damaged file). */
export function decodeCommit(bytes: Buffer): Commit {
  const bad = (why: string) => new BadRequestError(`bad replica commit: ${why}`)
  if (bytes.byteLength < FIXED_BYTES || !bytes.subarray(0, 4).equals(COMMIT_MAGIC)) throw bad('no magic')
  if (bytes[4] !== COMMIT_VERSION) throw bad(`version ${bytes[4]} (this node reads ${COMMIT_VERSION})`)
  const ownerId = bytes.subarray(5, 37).toString('hex')
  const locator = bytes.subarray(37, 69).toString('hex')
  const issuedAt = bytes.readUInt32BE(69) * 2 ** 32 + bytes.readUInt32BE(73)
  if (!Number.isSafeInteger(issuedAt)) throw bad('issuedAt')
  const count = bytes.readUInt32BE(77)
  if (count > MAX_CHUNKS) throw bad(`${count} chunks, above ${MAX_CHUNKS}`)
  let at = FIXED_BYTES
  const boxAt = at + count * 36
  if (bytes.byteLength < boxAt + KEY_BOX_BYTES + 4) throw bad('truncated')
  const chunks: CommitChunk[] = []
  for (let i = 0; i < count; i++, at += 36) {
    const length = bytes.readUInt32BE(at)
    if (length < 1 || length > MAX_OBJECT_CHUNK_SIZE) throw bad(`chunk ${i} of ${length} bytes`)
    chunks.push({ length, hash: bytes.subarray(at + 4, at + 36) })
  }
  const keyBox = bytes.subarray(boxAt, boxAt + KEY_BOX_BYTES)
  const mLen = bytes.readUInt32BE(boxAt + KEY_BOX_BYTES)
  const mAt = boxAt + KEY_BOX_BYTES + 4
  if (bytes.byteLength !== mAt + mLen) throw bad('length')
  return { ownerId, locator, issuedAt, chunks, keyBox, manifestBox: bytes.subarray(mAt) }
}

export function signCommit(key: OwnerKey, commit: Commit): SignedCommit {
  const body = encodeCommit(commit)
  const sig = sign(key, Buffer.concat([SIGN_LABEL, body]))
  return assemble(commit, body, key.publicKeyDer, sig)
}

/** Parses a signed commit and checks that the owner of its namespace signed it; throws otherwise. */
export function openSignedCommit(bytes: Buffer): SignedCommit {
  const bad = (why: string) => new BadRequestError(`bad signed commit: ${why}`)
  if (bytes.byteLength > MAX_SIGNED_COMMIT_BYTES) throw bad('too large')
  if (bytes.byteLength < 4) throw bad('truncated')
  const cLen = bytes.readUInt32BE(0)
  let at = 4 + cLen
  if (bytes.byteLength < at + 2) throw bad('truncated')
  const body = bytes.subarray(4, at)
  const pLen = bytes.readUInt16BE(at)
  const ownerPub = bytes.subarray(at + 2, at + 2 + pLen)
  at += 2 + pLen
  if (bytes.byteLength < at + 2) throw bad('truncated')
  const sLen = bytes.readUInt16BE(at)
  const sig = bytes.subarray(at + 2, at + 2 + sLen)
  if (bytes.byteLength !== at + 2 + sLen) throw bad('length')
  const commit = decodeCommit(body)
  if (ownerIdOf(ownerPub) !== commit.ownerId) {
    throw new UnauthorizedError(
      `a commit for namespace ${commit.ownerId.slice(0, 12)} signed by another owner`,
    )
  }
  let ok = false
  try {
    ok = verify(ownerPub, Buffer.concat([SIGN_LABEL, body]), sig)
  } catch {
    ok = false
  }
  if (!ok) throw new UnauthorizedError('bad owner signature on a replica commit')
  return { commit, ownerPub, sig, bytes, digest: digestOf(body), dataBytes: dataBytesOf(commit) }
}

/** Whether received chunks (length and SHA-256 of each, in order) are exactly those the commit lists. */
export function chunksMatch(commit: Commit, received: readonly CommitChunk[]): boolean {
  if (received.length !== commit.chunks.length) return false
  return commit.chunks.every((c, i) => {
    const r = received[i] as CommitChunk
    return r.length === c.length && timingSafeEqual(r.hash, c.hash)
  })
}

/** Whether `ciphertext` is chunk `index` as the commit lists it (length and SHA-256). */
export function chunkMatches(commit: Commit, index: number, ciphertext: Uint8Array): boolean {
  const want = commit.chunks[index]
  if (!want || want.length !== ciphertext.byteLength) return false
  return timingSafeEqual(createHash('sha256').update(ciphertext).digest(), want.hash)
}

function assemble(commit: Commit, body: Buffer, ownerPub: Uint8Array, sig: Uint8Array): SignedCommit {
  const out = Buffer.allocUnsafe(4 + body.byteLength + 2 + ownerPub.byteLength + 2 + sig.byteLength)
  out.writeUInt32BE(body.byteLength, 0)
  body.copy(out, 4)
  let at = 4 + body.byteLength
  out.writeUInt16BE(ownerPub.byteLength, at)
  out.set(ownerPub, at + 2)
  at += 2 + ownerPub.byteLength
  out.writeUInt16BE(sig.byteLength, at)
  out.set(sig, at + 2)
  return { commit, ownerPub, sig, bytes: out, digest: digestOf(body), dataBytes: dataBytesOf(commit) }
}

function digestOf(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex')
}

function dataBytesOf(commit: Commit): number {
  let n = 0
  for (const c of commit.chunks) n += c.length
  return n
}
