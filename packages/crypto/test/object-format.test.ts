import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  CidHasher,
  chunksOfRange,
  cidOf,
  cidOfManifest,
  decodeManifest,
  deriveOwnerSecrets,
  generateOwnerKey,
  locatorOf,
  ObjectOpener,
  ObjectSealer,
  openObjectKey,
  type SealedChunk,
  sealObjectKey,
} from '../src/index.js'

function sealAll(data: Uint8Array, pieces: number[], chunkSize?: number) {
  const sealer = new ObjectSealer(chunkSize === undefined ? {} : { chunkSize })
  const chunks: SealedChunk[] = []
  let at = 0
  for (const n of pieces) {
    chunks.push(...sealer.update(data.subarray(at, at + n)))
    at += n
  }
  chunks.push(...sealer.update(data.subarray(at)))
  const { last, object } = sealer.final()
  if (last) chunks.push(last)
  return { chunks, object }
}

describe('format 2 objects', () => {
  it('gives the same cid for the same bytes however they arrive, and different ciphertext each put', () => {
    const data = randomBytes(100_000)
    const a = sealAll(data, [1, 7, 4095, 33_000], 16_384)
    const b = sealAll(data, [], 16_384)
    expect(a.object.cid).toBe(b.object.cid)
    expect(a.object.size).toBe(100_000)
    expect(a.chunks.map((c) => c.ciphertext.byteLength)).toEqual([
      16_384, 16_384, 16_384, 16_384, 16_384, 16_384, 1_696,
    ])
    expect(Buffer.compare(a.chunks[0]!.ciphertext, b.chunks[0]!.ciphertext)).not.toBe(0)
    expect(a.object.chunks.map((c) => c.hash)).toEqual(a.chunks.map((c) => c.hash))
  })

  it('derives the cid from the manifest of plaintext chunk hashes', () => {
    const data = Buffer.from('hello format two')
    const { object } = sealAll(data, [], 4)
    const manifest = decodeManifest(object.manifest)
    expect(manifest.size).toBe(16)
    expect(manifest.chunks.map((c) => Buffer.from(c.hash).toString('hex'))).toEqual(
      ['hell', 'o fo', 'rmat', ' two'].map((s) => createHash('sha256').update(s).digest('hex')),
    )
    expect(object.cid).toBe(cidOfManifest(object.manifest))
  })

  it('opens each chunk on its own, in any order, and refuses a flipped byte', () => {
    const data = randomBytes(50_000)
    const { chunks, object } = sealAll(data, [], 10_000)
    const opener = new ObjectOpener(object.objectKey, object.manifestBox, object.cid)
    expect(opener.chunkCount).toBe(5)
    for (const i of [3, 0, 4, 1, 2]) {
      expect(opener.open(i, chunks[i]!.ciphertext)).toEqual(data.subarray(i * 10_000, (i + 1) * 10_000))
    }
    const bad = Buffer.from(chunks[2]!.ciphertext)
    bad[17] = (bad[17] as number) ^ 1
    expect(() => opener.open(2, bad)).toThrow(
      expect.objectContaining({ code: 'ERR_INTEGRITY', reason: 'chunk' }),
    )
    expect(() => opener.open(1, chunks[2]!.ciphertext)).toThrow(expect.objectContaining({ reason: 'chunk' }))
  })

  it('refuses a manifest opened with another key or checked against another cid', () => {
    const a = sealAll(randomBytes(1000), [], 100)
    const b = sealAll(randomBytes(1000), [], 100)
    expect(() => new ObjectOpener(b.object.objectKey, a.object.manifestBox, a.object.cid)).toThrow(
      expect.objectContaining({ reason: 'manifest' }),
    )
    expect(() => new ObjectOpener(a.object.objectKey, a.object.manifestBox, b.object.cid)).toThrow(
      expect.objectContaining({ reason: 'manifest' }),
    )
  })

  it('seals an empty object as zero chunks', () => {
    const { chunks, object } = sealAll(new Uint8Array(0), [])
    expect(chunks).toEqual([])
    const opener = new ObjectOpener(object.objectKey, object.manifestBox, object.cid)
    expect(opener.size).toBe(0)
    expect(chunksOfRange(opener.manifest, 0, 10)).toBeUndefined()
  })

  it('maps a byte range to the chunks that hold it', () => {
    const { object } = sealAll(randomBytes(1000), [], 100)
    const m = new ObjectOpener(object.objectKey, object.manifestBox, object.cid).manifest
    expect(chunksOfRange(m, 0, 0)).toEqual({ first: 0, last: 0 })
    expect(chunksOfRange(m, 99, 100)).toEqual({ first: 0, last: 1 })
    expect(chunksOfRange(m, 450, 5000)).toEqual({ first: 4, last: 9 })
    expect(chunksOfRange(m, 1000, 1001)).toBeUndefined()
  })

  it('seals the object key for its owner and locator only', () => {
    const owner = deriveOwnerSecrets(generateOwnerKey())
    const other = deriveOwnerSecrets(generateOwnerKey())
    const key = randomBytes(32)
    const locator = locatorOf(owner, 'a'.repeat(64))
    const box = sealObjectKey(owner, key, locator)
    expect(openObjectKey(owner, box, locator)).toEqual(key)
    expect(() => openObjectKey(other, box, locator)).toThrow(expect.objectContaining({ reason: 'key' }))
    expect(() => openObjectKey(owner, box, locatorOf(owner, 'b'.repeat(64)))).toThrow(
      expect.objectContaining({ reason: 'key' }),
    )
  })
})

describe('CidHasher', () => {
  it('gives the cid a put of the same bytes gets, however the bytes arrive', () => {
    const data = randomBytes(3 * 1024 * 1024 + 17)
    const { object } = sealAll(data, [])
    const hasher = new CidHasher()
    for (let at = 0; at < data.byteLength; at += 300_001) hasher.update(data.subarray(at, at + 300_001))
    expect(hasher.digest()).toBe(object.cid)
    expect(cidOf(data)).toBe(object.cid)
    expect(cidOf(new Uint8Array(0))).toBe(sealAll(new Uint8Array(0), []).object.cid)
  })
})
