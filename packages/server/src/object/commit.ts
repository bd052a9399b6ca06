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
 * | sigLength u16be | sig | batchSize u16be | index u16be | proof[32 × k].
 *
 * One signature covers a batch of commits (the puts that end together): the leaves are
 * SHA-256(0x00 ‖ "cas/commit/2\n" ‖ commit), an inner node is SHA-256(0x01 ‖ left ‖ right), an
 * odd last node goes up a level as it is, and sig = Ed25519(owner, "cas/commit-batch/2\n" ‖
 * batchSize u16be ‖ root). The proof is the sibling of each level the commit's path has one at,
 * leaf up; its length follows from index and batchSize. A batch of one has no proof.
 */
export const COMMIT_MAGIC = Buffer.from('CASC', 'latin1')
export const COMMIT_VERSION = 2
/** Most chunks one object may have: 128 GiB in 1 MiB chunks. */
export const MAX_CHUNKS = 128 * 1024
/** Largest signed commit accepted: bounds what a holder buffers before checking anything. */
export const MAX_SIGNED_COMMIT_BYTES = 12 * 1024 * 1024
const SIGN_LABEL = Buffer.from('cas/commit/2\n', 'utf8')
const BATCH_LABEL = Buffer.from('cas/commit-batch/2\n', 'utf8')
const LEAF = Buffer.from([0])
const NODE = Buffer.from([1])
/** Most commits one signature covers: a proof of at most 6 hashes (192 bytes) per replica. */
export const MAX_COMMIT_BATCH = 64
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

/** Signs one commit (a batch of one). */
export function signCommit(key: OwnerKey, commit: Commit): SignedCommit {
  return signCommits(key, [commit])[0] as SignedCommit
}

/**
 * Signs up to MAX_COMMIT_BATCH commits with one signature: Ed25519 costs a put more than its
 * own hashing and encryption of a small object, and a holder checking it three times that, so
 * commits that end together share one (each holder checks a batch's signature once, see
 * `openSignedCommit`).
 */
export function signCommits(key: OwnerKey, commits: readonly Commit[]): SignedCommit[] {
  if (commits.length < 1 || commits.length > MAX_COMMIT_BATCH) {
    throw new RangeError(`a batch holds 1 to ${MAX_COMMIT_BATCH} commits, got ${commits.length}`)
  }
  const bodies = commits.map(encodeCommit)
  const levels = [bodies.map(leafOf)]
  for (let level = levels[0] as Buffer[]; level.length > 1; ) {
    const up: Buffer[] = []
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1]
      up.push(right ? nodeOf(level[i] as Buffer, right) : (level[i] as Buffer))
    }
    levels.push(up)
    level = up
  }
  const root = (levels[levels.length - 1] as Buffer[])[0] as Buffer
  const sig = sign(key, batchMessage(commits.length, root))
  return commits.map((commit, index) => {
    const proof: Buffer[] = []
    let at = index
    for (const level of levels.slice(0, -1)) {
      const sibling = level[at % 2 === 1 ? at - 1 : at + 1]
      if (sibling) proof.push(sibling)
      at = Math.floor(at / 2)
    }
    const batch = { size: commits.length, index, proof }
    return assemble(commit, bodies[index] as Buffer, key.publicKeyDer, sig, batch)
  })
}

/**
 * Parses a signed commit and checks that the owner of its namespace signed it (its batch's
 * signature, checked once per batch: later commits of a checked batch cost a few hashes); throws
 * otherwise.
 */
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
  at += 2 + sLen
  // A batch section follows the signature; the signed form from before batches ends there
  // (Ed25519 over "cas/commit/2\n" ‖ commit: replicas written then still open).
  let batch: { size: number; index: number; proof: Buffer[] } | undefined
  if (bytes.byteLength !== at) {
    if (bytes.byteLength < at + 4) throw bad('truncated')
    const size = bytes.readUInt16BE(at)
    const index = bytes.readUInt16BE(at + 2)
    if (size < 1 || size > MAX_COMMIT_BATCH || index >= size) throw bad(`batch ${index} of ${size}`)
    at += 4
    const proof: Buffer[] = []
    for (const _ of siblingSides(index, size)) {
      proof.push(bytes.subarray(at, at + 32))
      at += 32
    }
    if (bytes.byteLength !== at) throw bad('length')
    batch = { size, index, proof }
  }
  const commit = decodeCommit(body)
  if (ownerIdOf(ownerPub) !== commit.ownerId) {
    throw new UnauthorizedError(
      `a commit for namespace ${commit.ownerId.slice(0, 12)} signed by another owner`,
    )
  }
  const ok = batch
    ? batchVerified(ownerPub, batch.size, rootOf(leafOf(body), batch), sig)
    : verify(ownerPub, Buffer.concat([SIGN_LABEL, body]), sig)
  if (!ok) throw new UnauthorizedError('bad owner signature on a replica commit')
  return { commit, ownerPub, sig, bytes, digest: digestOf(body), dataBytes: dataBytesOf(commit) }
}

/**
 * Batches whose signature checked out, by owner key, size, root and signature; the oldest first to
 * go. Every read of a replica's head checks its commit again, and a node reading back its own small
 * objects meets each batch once per object in it: 8,192 batches (keys of about 200 bytes, some 2 MB)
 * cover about 35,000 objects at the 4.5 commits a batch has under load.
 */
const verified = new Map<string, true>()
const VERIFIED_BATCHES = 8192

function batchVerified(ownerPub: Uint8Array, size: number, root: Buffer, sig: Uint8Array): boolean {
  const id = `${Buffer.from(ownerPub).toString('base64')}:${size}:${root.toString('base64')}:${Buffer.from(sig).toString('base64')}`
  if (verified.has(id)) return true
  if (!verify(ownerPub, batchMessage(size, root), sig)) return false
  if (verified.size >= VERIFIED_BATCHES) verified.delete(verified.keys().next().value as string)
  verified.set(id, true)
  return true
}

function batchMessage(size: number, root: Buffer): Buffer {
  const n = Buffer.allocUnsafe(2)
  n.writeUInt16BE(size, 0)
  return Buffer.concat([BATCH_LABEL, n, root])
}

function leafOf(body: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF).update(SIGN_LABEL).update(body).digest()
}

function nodeOf(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest()
}

/** Where the sibling sits at each level the path from leaf `index` of a batch of `size` has one, leaf up. */
function siblingSides(index: number, size: number): ('left' | 'right')[] {
  const sides: ('left' | 'right')[] = []
  for (let at = index, width = size; width > 1; at = Math.floor(at / 2), width = Math.ceil(width / 2)) {
    if (at % 2 === 1) sides.push('left')
    else if (at + 1 < width) sides.push('right')
  }
  return sides
}

/** The batch's root from one leaf and its proof (one sibling per side, as siblingSides lists them). */
function rootOf(leaf: Buffer, batch: { size: number; index: number; proof: readonly Buffer[] }): Buffer {
  return siblingSides(batch.index, batch.size).reduce((hash, side, k) => {
    const sibling = batch.proof[k] as Buffer
    return side === 'left' ? nodeOf(sibling, hash) : nodeOf(hash, sibling)
  }, leaf)
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

function assemble(
  commit: Commit,
  body: Buffer,
  ownerPub: Uint8Array,
  sig: Uint8Array,
  batch: { size: number; index: number; proof: readonly Buffer[] },
): SignedCommit {
  const out = Buffer.allocUnsafe(
    4 + body.byteLength + 2 + ownerPub.byteLength + 2 + sig.byteLength + 4 + 32 * batch.proof.length,
  )
  out.writeUInt32BE(body.byteLength, 0)
  body.copy(out, 4)
  let at = 4 + body.byteLength
  out.writeUInt16BE(ownerPub.byteLength, at)
  out.set(ownerPub, at + 2)
  at += 2 + ownerPub.byteLength
  out.writeUInt16BE(sig.byteLength, at)
  out.set(sig, at + 2)
  at += 2 + sig.byteLength
  out.writeUInt16BE(batch.size, at)
  out.writeUInt16BE(batch.index, at + 2)
  at += 4
  for (const hash of batch.proof) at += hash.copy(out, at)
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
