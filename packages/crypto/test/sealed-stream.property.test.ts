import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ChunkEncryptor } from '../src/chunk-encryptor.js'
import {
  createDecryptStream,
  createEncryptStream,
  decryptIterable,
  encryptIterable,
  HEADER_BYTES,
  IntegrityError,
  seal,
  sealedSize,
  TAG_BYTES,
  unseal,
} from '../src/index.js'
import { sealWithIv } from '../src/seal.js'
import { TEST_KEYS } from './helpers/keys.js'
import { collect, iterate, splitAt, throughTransform, throughTransformSettled } from './helpers/streams.js'

const keys = TEST_KEYS
const data = fc.uint8Array({ minLength: 0, maxLength: 6000 })
// mostly tiny chunks, so that a few KiB of data span many chunks and boundaries
const chunkSize = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 65, max: 4096 }))
const pieceSizes = fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 8 })
const cuts = fc.array(fc.nat({ max: 20_000 }), { maxLength: 12 })
const runs = { numRuns: 150 }

describe('sealed streams, over random data, chunk sizes and split points', () => {
  it('round-trip through the Transforms to the input, whatever the piece sizes', async () => {
    await fc.assert(
      fc.asyncProperty(data, chunkSize, pieceSizes, pieceSizes, async (plain, cs, inPieces, outPieces) => {
        const sealed = await throughTransform(
          createEncryptStream({ ...keys, chunkSize: cs }),
          plain,
          inPieces,
        )
        expect(sealed.length).toBe(sealedSize(plain.length, cs))
        const opened = await throughTransform(createDecryptStream(keys), sealed, outPieces)
        expect(opened.equals(plain)).toBe(true)
      }),
      runs,
    )
  })

  it('round-trip through the async-iterable helpers to the input, whatever the split points', async () => {
    await fc.assert(
      fc.asyncProperty(data, chunkSize, cuts, cuts, async (plain, cs, inCuts, outCuts) => {
        const sealed = await collect(
          encryptIterable(iterate(splitAt(plain, inCuts)), { ...keys, chunkSize: cs }),
        )
        const opened = await collect(decryptIterable(iterate(splitAt(sealed, outCuts)), keys))
        expect(opened.equals(plain)).toBe(true)
      }),
      runs,
    )
  })

  it('seal the same bytes however the plaintext is split, for a given IV', () => {
    fc.assert(
      fc.property(
        data,
        chunkSize,
        cuts,
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (plain, cs, at, iv) => {
          const whole = Buffer.from(sealWithIv(plain, { ...keys, chunkSize: cs }, iv))
          const encryptor = new ChunkEncryptor({ ...keys, chunkSize: cs }, iv)
          const out: Uint8Array[] = []
          for (const piece of splitAt(plain, at)) encryptor.update(piece, (p) => out.push(p))
          encryptor.final((p) => out.push(p))
          expect(Buffer.concat(out).equals(whole)).toBe(true)
        },
      ),
      runs,
    )
  })

  it('reject any single flipped bit and emit only plaintext of chunks before it', async () => {
    const sealedCase = fc
      .tuple(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.integer({ min: 1, max: 100 }))
      .chain(([plain, cs]) => {
        const sealed = Buffer.from(seal(plain, { ...keys, chunkSize: cs }))
        return fc.tuple(
          fc.constant(plain),
          fc.constant(cs),
          fc.constant(sealed),
          fc.nat({ max: sealed.length * 8 - 1 }),
        )
      })
    await fc.assert(
      fc.asyncProperty(sealedCase, pieceSizes, async ([plain, cs, sealed, bit], pieces) => {
        const bad = Buffer.from(sealed)
        bad[bit >> 3]! ^= 1 << (bit & 7)
        expect(() => unseal(bad, keys)).toThrow(IntegrityError)
        const { output, error } = await throughTransformSettled(createDecryptStream(keys), bad, pieces)
        expect(error).toBeInstanceOf(IntegrityError)
        const flippedChunk = Math.max(0, Math.floor(((bit >> 3) - HEADER_BYTES) / (cs + TAG_BYTES)))
        expect(output.length).toBeLessThanOrEqual(flippedChunk * cs)
        expect(output.equals(Buffer.from(plain).subarray(0, output.length))).toBe(true)
      }),
      runs,
    )
  })

  it('reject the stream cut at every chunk boundary', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2000 }), chunkSize, (plain, cs) => {
        const sealed = seal(plain, { ...keys, chunkSize: cs })
        const records = Math.floor(plain.length / cs) + 1
        for (let kept = 0; kept < records; kept++) {
          const cut = sealed.subarray(0, HEADER_BYTES + kept * (cs + TAG_BYTES))
          expect(() => unseal(cut, keys)).toThrow(
            expect.objectContaining({ code: 'ERR_INTEGRITY', reason: 'truncated' }),
          )
        }
      }),
      { numRuns: 60 },
    )
  })

  it('reject the stream cut anywhere or extended by any bytes', () => {
    fc.assert(
      fc.property(
        data,
        chunkSize,
        fc.nat(),
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        (plain, cs, cutSeed, extra) => {
          const sealed = Buffer.from(seal(plain, { ...keys, chunkSize: cs }))
          expect(() => unseal(sealed.subarray(0, cutSeed % sealed.length), keys)).toThrow(IntegrityError)
          expect(() => unseal(Buffer.concat([sealed, extra]), keys)).toThrow(IntegrityError)
        },
      ),
      runs,
    )
  })
})

describe('input one byte at a time', () => {
  it('gives the same result as input in one piece', async () => {
    const plain = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff))
    const sealed = await throughTransform(createEncryptStream({ ...keys, chunkSize: 100 }), plain, [1])
    const opened = await throughTransform(createDecryptStream(keys), sealed, [1])
    expect(opened.equals(plain)).toBe(true)
    expect(Buffer.from(unseal(sealed, keys)).equals(plain)).toBe(true)
  })
})
