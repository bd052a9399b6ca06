import { randomBytes } from 'node:crypto'
import { generateOwnerKey, sign } from '@cas/crypto'
import { describe, expect, it } from 'vitest'
import {
  type Commit,
  CommitSigner,
  encodeCommit,
  MAX_COMMIT_BATCH,
  openSignedCommit,
  signCommit,
  signCommits,
} from '../src/index.js'

const owner = generateOwnerKey()

function commitOf(i: number): Commit {
  return {
    ownerId: owner.ownerId,
    locator: randomBytes(32).toString('hex'),
    issuedAt: 1_700_000_000_000 + i,
    chunks: [{ length: 1024 + i, hash: randomBytes(32) }],
    keyBox: randomBytes(60),
    manifestBox: randomBytes(80),
  }
}

/** The signed form's batch fields: where they start, batch size, index. */
function batchAt(bytes: Buffer): { at: number; size: number; index: number } {
  let at = 4 + bytes.readUInt32BE(0)
  at += 2 + bytes.readUInt16BE(at)
  at += 2 + bytes.readUInt16BE(at)
  return { at, size: bytes.readUInt16BE(at), index: bytes.readUInt16BE(at + 2) }
}

describe('signed commits in batches', () => {
  it('opens every commit of batches of every size up to the most, each as it was signed', () => {
    for (const size of [1, 2, 3, 5, 7, 8, 9, 16, 17, 33, MAX_COMMIT_BATCH]) {
      const commits = Array.from({ length: size }, (_, i) => commitOf(i))
      const signed = signCommits(owner, commits)
      expect(new Set(signed.map((s) => Buffer.from(s.sig).toString('hex'))).size).toBe(1)
      signed.forEach((s, i) => {
        const opened = openSignedCommit(s.bytes)
        expect(opened.commit.locator).toBe(commits[i]?.locator)
        expect(opened.digest).toBe(s.digest)
        expect(batchAt(s.bytes)).toMatchObject({ size, index: i })
        // at most log2(64) = 6 sibling hashes
        expect(s.bytes.byteLength - batchAt(s.bytes).at - 4).toBeLessThanOrEqual(6 * 32)
      })
    }
  })

  it('a batch of one is a single commit signed on its own', () => {
    const s = signCommit(owner, commitOf(0))
    expect(batchAt(s.bytes)).toEqual({ at: s.bytes.byteLength - 4, size: 1, index: 0 })
    expect(openSignedCommit(s.bytes).commit.issuedAt).toBe(1_700_000_000_000)
  })

  it('refuses a commit whose proof, index, size or body was changed, or signed by another key', () => {
    const signed = signCommits(
      owner,
      Array.from({ length: 5 }, (_, i) => commitOf(i)),
    )
    const s = signed[2]?.bytes as Buffer
    const { at } = batchAt(s)
    const flipped = (offset: number) => {
      const copy = Buffer.from(s)
      copy[offset]! ^= 1
      return copy
    }
    expect(() => openSignedCommit(flipped(at + 4))).toThrow(/signature/) // a proof hash
    expect(() => openSignedCommit(flipped(s.byteLength - 1))).toThrow(/signature/)
    expect(() => openSignedCommit(flipped(4 + 90))).toThrow() // inside the commit's chunk list
    const otherIndex = Buffer.from(s)
    otherIndex.writeUInt16BE(3, at + 2)
    expect(() => openSignedCommit(otherIndex)).toThrow()
    const pastEnd = Buffer.from(s)
    pastEnd.writeUInt16BE(5, at + 2)
    expect(() => openSignedCommit(pastEnd)).toThrow(/batch 5 of 5/)
    const tooBig = Buffer.from(s)
    tooBig.writeUInt16BE(MAX_COMMIT_BATCH + 1, at)
    expect(() => openSignedCommit(tooBig)).toThrow(/batch/)
    expect(() => openSignedCommit(s.subarray(0, s.byteLength - 1))).toThrow(/length/)
    // another owner's key over this owner's namespace
    const intruder = generateOwnerKey()
    expect(() => openSignedCommit(signCommits(intruder, [commitOf(0)])[0]?.bytes as Buffer)).toThrow(
      /another owner/,
    )
    expect(() => signCommits(owner, [])).toThrow(RangeError)
    expect(() =>
      signCommits(
        owner,
        Array.from({ length: MAX_COMMIT_BATCH + 1 }, (_, i) => commitOf(i)),
      ),
    ).toThrow(RangeError)
  })

  it("refuses one batch's signature and proof over another batch's commit", () => {
    const a = signCommits(owner, [commitOf(0), commitOf(1)])
    const b = signCommits(owner, [commitOf(2), commitOf(3)])
    // b[0]'s commit with a[0]'s signature and proof: both checked once, then the swap
    openSignedCommit(a[0]?.bytes as Buffer)
    openSignedCommit(b[0]?.bytes as Buffer)
    const aBytes = a[0]?.bytes as Buffer
    const bBytes = b[0]?.bytes as Buffer
    const aTail = aBytes.subarray(4 + aBytes.readUInt32BE(0))
    const swapped = Buffer.concat([bBytes.subarray(0, 4 + bBytes.readUInt32BE(0)), aTail])
    expect(() => openSignedCommit(swapped)).toThrow(/signature/)
  })
})

describe('signed commits from before batches', () => {
  it('open when they end at the signature (Ed25519 over the commit alone), and not when altered', () => {
    const commit = commitOf(0)
    const body = encodeCommit(commit)
    const sig = sign(owner, Buffer.concat([Buffer.from('cas/commit/2\n'), body]))
    const u32 = Buffer.alloc(4)
    u32.writeUInt32BE(body.byteLength, 0)
    const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff])
    const pub = owner.publicKeyDer
    const single = Buffer.concat([u32, body, u16(pub.byteLength), pub, u16(sig.byteLength), sig])
    expect(openSignedCommit(single).commit.locator).toBe(commit.locator)
    const altered = Buffer.from(single)
    altered[4 + 90]! ^= 1
    expect(() => openSignedCommit(altered)).toThrow()
    // the batch signature over one commit does not pass for the single form, nor the other way round
    const batched = signCommit(owner, commit).bytes
    const batchSig = batched.subarray(single.byteLength - sig.byteLength, single.byteLength)
    const mixed = Buffer.concat([single.subarray(0, single.byteLength - sig.byteLength), batchSig])
    expect(() => openSignedCommit(mixed)).toThrow(/signature/)
  })
})

describe('CommitSigner', () => {
  it('signs the commits asked for in one turn with one signature, and a later one on its own', async () => {
    const signer = new CommitSigner(owner)
    const together = await Promise.all(Array.from({ length: 10 }, (_, i) => signer.sign(commitOf(i))))
    expect(new Set(together.map((s) => Buffer.from(s.sig).toString('hex'))).size).toBe(1)
    together.forEach((s, i) => {
      expect(batchAt(s.bytes)).toMatchObject({ size: 10, index: i })
      expect(openSignedCommit(s.bytes).commit.issuedAt).toBe(1_700_000_000_000 + i)
    })
    const alone = await signer.sign(commitOf(99))
    expect(batchAt(alone.bytes)).toMatchObject({ size: 1, index: 0 })
    expect(Buffer.from(alone.sig).equals(Buffer.from(together[0]?.sig as Uint8Array))).toBe(false)
  })

  it('splits more commits than a batch holds into several batches', async () => {
    const signer = new CommitSigner(owner)
    const all = await Promise.all(
      Array.from({ length: MAX_COMMIT_BATCH + 3 }, (_, i) => signer.sign(commitOf(i))),
    )
    expect(batchAt(all[0]?.bytes as Buffer).size).toBe(MAX_COMMIT_BATCH)
    expect(batchAt(all[MAX_COMMIT_BATCH]?.bytes as Buffer)).toMatchObject({ size: 3, index: 0 })
    for (const s of all) openSignedCommit(s.bytes)
  })
})
