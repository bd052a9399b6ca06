import { randomBytes } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import {
  createDecryptStream,
  createEncryptStream,
  DEFAULT_CHUNK_SIZE,
  decryptIterable,
  encryptIterable,
  HEADER_BYTES,
  plainSizeOf,
  seal,
  sealedSize,
  TAG_BYTES,
  unseal,
} from '../src/index.js'
import { bytesFrom, TEST_KEYS } from './helpers/keys.js'
import { collect, iterate, readableOf, splitAt, throughTransform } from './helpers/streams.js'

const keys = TEST_KEYS

describe('sealed streams', () => {
  it('round-trips through the Transforms with the default 64 KiB chunks', async () => {
    const plain = bytesFrom('plain', 3 * DEFAULT_CHUNK_SIZE + 12_345)
    const sealed = await throughTransform(createEncryptStream(keys), plain, [10_000])
    expect(sealed.length).toBe(sealedSize(plain.length))
    const opened = await throughTransform(createDecryptStream(keys), sealed, [7_777])
    expect(opened.equals(plain)).toBe(true)
  })

  it('seals the empty plaintext as a header and one empty final chunk', async () => {
    const sealed = await throughTransform(createEncryptStream(keys), new Uint8Array(0))
    expect(sealed.length).toBe(HEADER_BYTES + TAG_BYTES)
    expect(unseal(sealed, keys).length).toBe(0)
  })

  it('ends a plaintext that fills its last chunk exactly with an empty final chunk', () => {
    const plain = bytesFrom('exact', 4 * 100)
    const sealed = seal(plain, { ...keys, chunkSize: 100 })
    expect(sealed.length).toBe(HEADER_BYTES + 400 + 5 * TAG_BYTES)
    expect(Buffer.from(unseal(sealed, keys)).equals(plain)).toBe(true)
  })

  it('uses a fresh IV for every encryption of the same plaintext', () => {
    const plain = bytesFrom('same', 1000)
    const a = Buffer.from(seal(plain, keys))
    const b = Buffer.from(seal(plain, keys))
    expect(a.subarray(9, HEADER_BYTES).equals(b.subarray(9, HEADER_BYTES))).toBe(false)
    expect(a.subarray(HEADER_BYTES).equals(b.subarray(HEADER_BYTES))).toBe(false)
  })

  it('round-trips through the async-iterable helpers from a Readable, an iterable and a buffer', async () => {
    const plain = bytesFrom('iter', 50_000)
    const pieces = splitAt(plain, [1, 2, 3, 4096, 40_000])
    const fromReadable = await collect(encryptIterable(readableOf(pieces), { ...keys, chunkSize: 1000 }))
    const fromIterable = await collect(encryptIterable(iterate(pieces), { ...keys, chunkSize: 1000 }))
    const fromBuffer = await collect(encryptIterable(plain, { ...keys, chunkSize: 1000 }))
    for (const sealed of [fromReadable, fromIterable, fromBuffer]) {
      expect(
        (await collect(decryptIterable(iterate(splitAt(sealed, [5, 30, 999])), keys))).equals(plain),
      ).toBe(true)
    }
  })

  it('round-trips a stream sealed with 1 MiB chunks', () => {
    const plain = randomBytes(3 * 1024 * 1024 + 5)
    const sealed = seal(plain, { ...keys, chunkSize: 1024 * 1024 })
    expect(Buffer.from(unseal(sealed, keys)).equals(plain)).toBe(true)
  })

  it('computes the plaintext size back from a sealed size', () => {
    for (const [size, chunk] of [
      [0, 1],
      [1, 1],
      [99, 100],
      [100, 100],
      [101, 100],
      [10 ** 9, DEFAULT_CHUNK_SIZE],
    ] as const) {
      expect(plainSizeOf(sealedSize(size, chunk), chunk)).toBe(size)
    }
    expect(() => plainSizeOf(HEADER_BYTES + 10, 100)).toThrow(
      expect.objectContaining({ code: 'ERR_INTEGRITY' }),
    )
  })

  it('rejects keys of the wrong length and impossible chunk sizes with ERR_INVALID_ARGUMENT', () => {
    const bad = { code: 'ERR_INVALID_ARGUMENT' }
    expect(() => createEncryptStream({ fileKey: randomBytes(16), macKey: keys.macKey })).toThrow(
      expect.objectContaining(bad),
    )
    expect(() => createDecryptStream({ fileKey: keys.fileKey, macKey: new Uint8Array(0) })).toThrow(
      expect.objectContaining(bad),
    )
    for (const chunkSize of [0, -1, 1.5, 16 * 1024 * 1024 + 1, Number.NaN]) {
      expect(() => encryptIterable(new Uint8Array(1), { ...keys, chunkSize })).toThrow(
        expect.objectContaining(bad),
      )
    }
    expect(() => decryptIterable(new Uint8Array(1), { ...keys, maxChunkSize: 0 })).toThrow(
      expect.objectContaining(bad),
    )
  })

  it('refuses a stream whose chunks exceed the reader maxChunkSize', () => {
    const sealed = seal(bytesFrom('p', 10), { ...keys, chunkSize: 4096 })
    expect(() => unseal(sealed, { ...keys, maxChunkSize: 4095 })).toThrow(
      expect.objectContaining({ code: 'ERR_INTEGRITY', reason: 'chunk-size' }),
    )
    expect(Buffer.from(unseal(sealed, { ...keys, maxChunkSize: 4096 })).equals(bytesFrom('p', 10))).toBe(true)
  })

  it('rejects a source that yields strings instead of bytes', async () => {
    const source = Readable.from(['not', 'bytes'])
    await expect(collect(encryptIterable(source, keys))).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
  })

  it('stops an iterable helper when its signal aborts', async () => {
    const controller = new AbortController()
    const sealed = encryptIterable(iterate([new Uint8Array(10), new Uint8Array(10)]), {
      ...keys,
      signal: controller.signal,
    })
    const it = sealed[Symbol.asyncIterator]()
    await it.next()
    controller.abort(new Error('stop'))
    await expect(collect({ [Symbol.asyncIterator]: () => it })).rejects.toThrow('stop')
  })

  it('holds back input while its output is not read (backpressure)', async () => {
    const encrypt = createEncryptStream({ ...keys, chunkSize: 16 * 1024 })
    const piece = new Uint8Array(64 * 1024)
    let written = 0
    while (encrypt.write(piece)) written += piece.length
    // the transform stopped asking for input after a bounded amount, though nothing was read
    expect(written).toBeLessThan(1024 * 1024)
    expect(encrypt.readableLength + encrypt.writableLength).toBeLessThan(1024 * 1024)
    encrypt.destroy()
  })

  it('streams a sealed object through pipeline into a slow sink and back intact', async () => {
    const plain = bytesFrom('pipeline', 2 * 1024 * 1024 + 3)
    const sealedParts: Buffer[] = []
    await pipeline(
      readableOf(splitAt(plain, [100_000, 1_000_000])),
      createEncryptStream(keys),
      new Writable({
        highWaterMark: 1024,
        write(chunk: Buffer, _enc, cb) {
          sealedParts.push(chunk)
          setImmediate(cb)
        },
      }),
    )
    const opened: Buffer[] = []
    await pipeline(
      readableOf(sealedParts),
      createDecryptStream(keys),
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          opened.push(chunk)
          cb()
        },
      }),
    )
    expect(Buffer.concat(opened).equals(plain)).toBe(true)
  })
})
