import { createHash, randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  newObjectKey,
  ObjectOpener,
  ObjectSealer,
  type SealedChunk,
  SealThread,
  SealThreadError,
  ThreadedSealer,
} from '../src/index.js'

const threads: SealThread[] = []
afterEach(async () => {
  await Promise.all(threads.map((t) => t.close()))
  threads.length = 0
})

function newThread(): SealThread {
  const thread = new SealThread()
  threads.push(thread)
  return thread
}

/** Splits `data` into pieces of the given sizes (the rest in one last piece). */
function piecesOf(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = []
  let at = 0
  for (const n of sizes) {
    out.push(data.subarray(at, at + n))
    at += n
  }
  if (at < data.byteLength) out.push(data.subarray(at))
  return out
}

function sealInline(data: Buffer, objectKey: Buffer, chunkSize: number) {
  const sealer = new ObjectSealer({ objectKey, chunkSize })
  const chunks = sealer.update(data)
  const { last, object } = sealer.final()
  return { chunks: last ? [...chunks, last] : chunks, object }
}

async function sealThreaded(
  pieces: Buffer[],
  objectKey: Buffer,
  chunkSize: number,
  thread: SealThread | undefined,
  ahead?: number,
) {
  const chunks: SealedChunk[] = []
  let mostPending = 0
  const sealer = new ThreadedSealer(
    async (chunk) => {
      mostPending = Math.max(mostPending, thread?.pending ?? 0)
      chunks.push(chunk)
    },
    { objectKey, chunkSize, thread, ...(ahead !== undefined && { ahead }) },
  )
  for (const piece of pieces) {
    await sealer.update(piece)
    // The caller may reuse its buffer once update resolves: what was taken was copied.
    piece.fill(0xee)
  }
  const { last, object } = await sealer.final()
  return { chunks: last ? [...chunks, last] : chunks, object, mostPending }
}

describe('ThreadedSealer', () => {
  it('seals on the thread exactly what ObjectSealer seals, in order, however the bytes arrive', async () => {
    const thread = newThread()
    const chunkSize = 65_536
    for (const size of [0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 5 * chunkSize + 3]) {
      const data = randomBytes(size)
      const objectKey = newObjectKey()
      const want = sealInline(data, objectKey, chunkSize)
      for (const sizes of [[], [1, 7, 4095, 33_000, 70_000], Array(40).fill(10_000)]) {
        const got = await sealThreaded(piecesOf(Buffer.from(data), sizes), objectKey, chunkSize, thread)
        expect(got.object).toEqual(want.object)
        expect(got.chunks.map((c) => c.index)).toEqual(want.chunks.map((c) => c.index))
        expect(got.chunks.map((c) => c.ciphertext)).toEqual(want.chunks.map((c) => c.ciphertext))
        expect(got.chunks.map((c) => c.hash)).toEqual(want.chunks.map((c) => c.hash))
      }
    }
  })

  it('seals 1 MiB chunks that open again, at most `ahead` on the thread at once', async () => {
    const thread = newThread()
    const data = randomBytes(7 * 1024 * 1024 + 12_345)
    const objectKey = newObjectKey()
    const got = await sealThreaded(
      piecesOf(Buffer.from(data), Array(120).fill(65_536)),
      objectKey,
      1024 * 1024,
      thread,
      3,
    )
    expect(got.chunks).toHaveLength(8)
    expect(got.mostPending).toBeGreaterThan(0)
    expect(got.mostPending).toBeLessThanOrEqual(3)
    const opener = new ObjectOpener(objectKey, got.object.manifestBox, got.object.cid)
    const plain = Buffer.concat(got.chunks.map((c) => opener.open(c.index, c.ciphertext)))
    expect(plain.equals(data)).toBe(true)
    expect(got.object).toEqual(sealInline(data, objectKey, 1024 * 1024).object)
  })

  it('seals on the calling thread without one, the same bytes', async () => {
    const data = randomBytes(3 * 65_536 + 10)
    const objectKey = newObjectKey()
    const got = await sealThreaded(
      piecesOf(Buffer.from(data), [50_000, 50_000]),
      objectKey,
      65_536,
      undefined,
    )
    const want = sealInline(data, objectKey, 65_536)
    expect(got.object).toEqual(want.object)
    expect(got.chunks.map((c) => c.ciphertext)).toEqual(want.chunks.map((c) => c.ciphertext))
  })
})

describe('SealThread', () => {
  const MiB = 1024 * 1024
  function plainOf(size: number): Buffer {
    const plain = Buffer.allocUnsafeSlow(size)
    randomBytes(size).copy(plain)
    return plain
  }

  it("hashes a chunk's plaintext, moving its buffer there and back", async () => {
    const thread = newThread()
    const plain = plainOf(MiB)
    const copy = Buffer.from(plain)
    const got = await thread.hash(plain)
    expect(plain.byteLength).toBe(0) // moved, not copied
    expect(got.plain.equals(copy)).toBe(true)
    expect(got.hash).toEqual(createHash('sha256').update(copy).digest())
  })

  it('fails the chunks it held with SealThreadError when closed, and refuses more', async () => {
    const thread = newThread()
    const hashing = thread.hash(plainOf(4 * MiB)).catch((e: unknown) => e)
    await thread.close()
    expect(await hashing).toBeInstanceOf(SealThreadError)
    await expect(thread.hash(plainOf(16))).rejects.toMatchObject({ code: 'ERR_SEAL_THREAD' })
  })

  it('fails what a failing thread held, and starts a new thread for the next chunk', async () => {
    const thread = new SealThread({
      workerUrl: new URL('./fixtures/failing-seal-worker.mjs', import.meta.url),
    })
    threads.push(thread)
    for (const round of [1, 2]) {
      const err = await thread.hash(plainOf(1024)).catch((e: unknown) => e)
      expect(err, `round ${round}`).toBeInstanceOf(SealThreadError)
      expect((err as Error).message).toMatch(/seal thread failed: .*fails every chunk/)
      expect(thread.pending).toBe(0)
    }
  })

  it('takes only a buffer that is its whole ArrayBuffer: moving a view would move what is around it', () => {
    const thread = newThread()
    const whole = Buffer.allocUnsafeSlow(4096)
    expect(() => thread.hash(whole.subarray(2048))).toThrow(RangeError)
    expect(() => thread.hash(whole.subarray(0, 2048))).toThrow(RangeError)
    expect(whole.byteLength).toBe(4096)
  })
})
