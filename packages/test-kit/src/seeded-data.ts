import { type Cipher, createCipheriv, createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CidHasher } from '@cas/crypto'

const PIECE = 1024 * 1024

/**
 * Deterministic pseudo-random content of any size, from a seed: an AES-256-CTR keystream. A test
 * can stream a GiB to a node and regenerate it to compare, without holding it in memory.
 */
export async function* seededBytes(seed: string, size: number): AsyncGenerator<Buffer> {
  const cipher = keystreamAt(seed, 0)
  const zeros = Buffer.alloc(PIECE)
  for (let done = 0; done < size; ) {
    const n = Math.min(PIECE, size - done)
    yield cipher.update(n === PIECE ? zeros : zeros.subarray(0, n))
    done += n
  }
}

/**
 * `size` bytes of seeded content from byte `start` on (the same bytes as `seededBytes` gives there),
 * computed from there: the keystream's counter is advanced by the blocks before `start`, so a slice
 * from deep inside a large object costs only its own size.
 */
export function seededBuffer(seed: string, size: number, start = 0): Buffer {
  const skip = start % 16
  return keystreamAt(seed, start - skip)
    .update(Buffer.alloc(skip + size))
    .subarray(skip)
}

/** The seed's AES-256-CTR keystream from byte `at` on, a multiple of the 16-byte block. */
function keystreamAt(seed: string, at: number): Cipher {
  const key = createHash('sha256').update(`key:${seed}`).digest()
  const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16)
  return createCipheriv('aes-256-ctr', key, counterAfter(iv, at / 16))
}

/** The 128-bit big-endian counter `iv` advanced by `blocks`, as AES-CTR advances it. */
function counterAfter(iv: Buffer, blocks: number): Buffer {
  const counter = Buffer.from(iv)
  let carry = blocks
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const sum = (counter[i] as number) + (carry % 256)
    counter[i] = sum % 256
    carry = Math.floor(carry / 256) + Math.floor(sum / 256)
  }
  return counter
}

/** The cid of seeded content. */
export async function seededCid(seed: string, size: number): Promise<string> {
  const hash = new CidHasher()
  for await (const piece of seededBytes(seed, size)) hash.update(piece)
  return hash.digest()
}

/** A Readable of seeded content that reports how many bytes it has handed out. */
export function seededStream(seed: string, size: number, onBytes?: (sent: number) => void): Readable {
  let sent = 0
  return Readable.from(
    (async function* () {
      for await (const piece of seededBytes(seed, size)) {
        sent += piece.length
        onBytes?.(sent)
        yield piece
      }
    })(),
    { objectMode: false },
  )
}

/** Writes `size` bytes of seeded content to a file, streaming (a file of many GiB takes no memory). */
export async function writeSeededFile(path: string, seed: string, size: number): Promise<void> {
  await pipeline(Readable.from(seededBytes(seed, size)), createWriteStream(path))
}

/**
 * Compares a stream with the content it should be: bytes that differ, plus bytes missing or extra,
 * count as corrupt. Streams both, so it works for a GiB.
 */
export async function corruptBytes(
  actual: AsyncIterable<Uint8Array>,
  expected: AsyncIterable<Uint8Array>,
): Promise<{ corrupt: number; length: number }> {
  const want = expected[Symbol.asyncIterator]()
  let pending = Buffer.alloc(0)
  let corrupt = 0
  let length = 0
  let expectedDone = false
  for await (const chunk of actual) {
    const got = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    length += got.length
    let offset = 0
    while (offset < got.length) {
      if (pending.length === 0 && !expectedDone) {
        const next = await want.next()
        if (next.done) expectedDone = true
        else pending = Buffer.from(next.value)
      }
      if (pending.length === 0) {
        corrupt += got.length - offset // extra bytes past the end
        break
      }
      const n = Math.min(pending.length, got.length - offset)
      for (let i = 0; i < n; i++) if (got[offset + i] !== pending[i]) corrupt++
      pending = pending.subarray(n)
      offset += n
    }
  }
  // What was never returned counts too: a short body is corrupt, not just short.
  corrupt += pending.length
  for (let next = await want.next(); !next.done; next = await want.next()) corrupt += next.value.byteLength
  return { corrupt, length }
}
