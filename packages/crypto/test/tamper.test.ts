import { describe, expect, it } from 'vitest'
import { createDecryptStream, HEADER_BYTES, IntegrityError, seal, TAG_BYTES, unseal } from '../src/index.js'
import { bytesFrom, TEST_KEYS } from './helpers/keys.js'
import { throughTransformSettled } from './helpers/streams.js'

const keys = TEST_KEYS
const CHUNK = 16
const plain = bytesFrom('tamper', 3 * CHUNK + 5) // three full chunks and a short final one
const sealed = Buffer.from(seal(plain, { ...keys, chunkSize: CHUNK }))
const RECORD = CHUNK + TAG_BYTES
const recordCount = 4

/** The records of the sealed stream, without the header. */
function records(): Buffer[] {
  const out: Buffer[] = []
  for (let off = HEADER_BYTES; off < sealed.length; off += RECORD)
    out.push(sealed.subarray(off, off + RECORD))
  return out
}

function assembled(parts: Buffer[]): Buffer {
  return Buffer.concat([sealed.subarray(0, HEADER_BYTES), ...parts])
}

/** Which chunk a byte offset of the sealed stream belongs to (-1 for the header). */
function chunkOf(offset: number): number {
  return offset < HEADER_BYTES ? -1 : Math.floor((offset - HEADER_BYTES) / RECORD)
}

describe('tampering with a sealed stream', () => {
  it('has the shape these tests assume', () => {
    expect(records().length).toBe(recordCount)
    expect(Buffer.from(unseal(sealed, keys)).equals(plain)).toBe(true)
  })

  it('rejects every single-bit flip anywhere in the stream and emits only chunks before the flip', async () => {
    let checked = 0
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const bad = Buffer.from(sealed)
      bad[bit >> 3]! ^= 1 << (bit & 7)
      expect(() => unseal(bad, keys)).toThrow(IntegrityError)
      const { output, error } = await throughTransformSettled(createDecryptStream(keys), bad, [7])
      expect(error).toBeInstanceOf(IntegrityError)
      // a flip in chunk k (or the header, k = -1) may only let the k chunks before it through
      const verifiedBytes = Math.max(0, chunkOf(bit >> 3)) * CHUNK
      expect(output.length).toBeLessThanOrEqual(verifiedBytes)
      expect(output.equals(plain.subarray(0, output.length))).toBe(true)
      checked++
    }
    expect(checked).toBe(sealed.length * 8)
  })

  it('rejects the stream cut at every byte, including every chunk boundary', async () => {
    for (let cut = 0; cut < sealed.length; cut++) {
      const { output, error } = await throughTransformSettled(
        createDecryptStream(keys),
        sealed.subarray(0, cut),
        [cut || 1],
      )
      expect(error, `cut at ${cut}`).toMatchObject({ code: 'ERR_INTEGRITY' })
      expect(output.equals(plain.subarray(0, output.length))).toBe(true)
    }
  })

  it('rejects the stream cut after each complete chunk as truncated', () => {
    for (let kept = 0; kept < recordCount; kept++) {
      const cut = assembled(records().slice(0, kept))
      expect(() => unseal(cut, keys)).toThrow(
        expect.objectContaining({ code: 'ERR_INTEGRITY', reason: 'truncated' }),
      )
    }
  })

  it('rejects two chunks swapped', () => {
    const r = records()
    expect(() => unseal(assembled([r[1]!, r[0]!, r[2]!, r[3]!]), keys)).toThrow(
      expect.objectContaining({ reason: 'tag' }),
    )
  })

  it('rejects a duplicated chunk', () => {
    const r = records()
    expect(() => unseal(assembled([r[0]!, r[0]!, r[1]!, r[2]!, r[3]!]), keys)).toThrow(IntegrityError)
  })

  it('rejects a chunk dropped from the middle', () => {
    const r = records()
    expect(() => unseal(assembled([r[0]!, r[2]!, r[3]!]), keys)).toThrow(IntegrityError)
  })

  it('rejects bytes appended after the final chunk', () => {
    for (const extra of [Buffer.from([0]), Buffer.alloc(TAG_BYTES), records()[0]!]) {
      expect(() => unseal(Buffer.concat([sealed, extra]), keys)).toThrow(IntegrityError)
    }
  })

  it('rejects a final chunk replaced by a full chunk, which would hide a truncation', () => {
    const r = records()
    expect(() => unseal(assembled([r[0]!, r[1]!, r[2]!, r[2]!]), keys)).toThrow(IntegrityError)
  })

  it('rejects the header of another encryption in front of these chunks', () => {
    const other = Buffer.from(seal(plain, { ...keys, chunkSize: CHUNK }))
    const spliced = Buffer.concat([other.subarray(0, HEADER_BYTES), sealed.subarray(HEADER_BYTES)])
    expect(() => unseal(spliced, keys)).toThrow(IntegrityError)
  })

  it('rejects the stream under a wrong file key, a wrong mac key, or both', () => {
    const other = bytesFrom('other', 32)
    for (const wrong of [
      { ...keys, fileKey: other },
      { ...keys, macKey: other },
      { fileKey: other, macKey: other },
    ]) {
      expect(() => unseal(sealed, wrong)).toThrow(expect.objectContaining({ reason: 'tag' }))
    }
  })

  it('rejects a stream that is not sealed at all', () => {
    expect(() => unseal(Buffer.from('hello, this is plain text and not sealed'), keys)).toThrow(
      expect.objectContaining({ reason: 'header' }),
    )
  })
})
