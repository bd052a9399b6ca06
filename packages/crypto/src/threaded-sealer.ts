import { createHash } from 'node:crypto'
import { cryptChunk } from './chunk-cipher.js'
import {
  describeObject,
  type ObjectSealerOptions,
  type SealedChunk,
  type SealedObject,
  sealerKeys,
} from './object-sealer.js'
import { sealChunk } from './seal-chunk.js'
import type { SealThread } from './seal-thread.js'

/** The staging buffer's first size: a small object does not cost a whole chunk of memory. */
const MIN_STAGE = 4096
/** Plaintext chunks on the thread at once by default: one hashed there while the next is received. */
const DEFAULT_AHEAD = 2

export interface ThreadedSealerOptions extends ObjectSealerOptions {
  /** Where full chunks' plaintext is hashed; without one, on the caller's thread (as ObjectSealer does). */
  thread?: SealThread | undefined
  /** Plaintext chunks on the thread at once, at most (1 or more). Default 2. */
  ahead?: number
}

/**
 * ObjectSealer with the SHA-256 of each full chunk's plaintext taken on a SealThread: the same
 * bytes, while the caller's thread encrypts, hashes the ciphertext and emits the chunk, and goes on
 * taking the next chunk's plaintext. Each full chunk goes to `emit` as soon as it is sealed, in order;
 * its plaintext hash is needed only for the manifest, at `final`. `update` waits while `ahead`
 * chunks' plaintext is on the thread, so memory stays at a few chunks. A short last chunk (a small
 * object's only one) is sealed here at `final`: handing it to the thread would only add a round trip.
 */
export class ThreadedSealer {
  readonly chunkSize: number
  readonly #thread: SealThread | undefined
  readonly #emit: (chunk: SealedChunk) => Promise<void>
  readonly #ahead: number
  readonly #objectKey: Buffer
  readonly #chunkKey: Uint8Array
  readonly #manifestKey: Buffer
  /** Each chunk's plaintext length and hash, in order; a hash still on the thread is a promise. */
  readonly #plain: { length: number; hash: Buffer | Promise<Buffer> }[] = []
  readonly #cipher: { length: number; hash: Buffer }[] = []
  /** Plaintext hashes on the thread, oldest first. */
  readonly #onThread: Promise<Buffer>[] = []
  /** Staging buffers back from the thread, staged into again: a large put allocates only ciphertext. */
  readonly #free: Buffer[] = []
  #stage: Buffer | undefined
  #staged = 0
  #size = 0
  #done = false

  constructor(emit: (chunk: SealedChunk) => Promise<void>, opts: ThreadedSealerOptions = {}) {
    const keys = sealerKeys(opts)
    this.chunkSize = keys.chunkSize
    this.#objectKey = keys.objectKey
    this.#chunkKey = keys.chunkKey
    this.#manifestKey = keys.manifestKey
    this.#thread = opts.thread
    this.#emit = emit
    this.#ahead = Math.max(1, opts.ahead ?? DEFAULT_AHEAD)
  }

  /** Plaintext bytes taken so far. */
  get size(): number {
    return this.#size
  }

  /**
   * Takes plaintext; resolves once it is staged and each chunk it completed is emitted. The caller
   * may reuse `data` afterwards.
   */
  async update(data: Uint8Array): Promise<void> {
    if (this.#done) throw new Error('ThreadedSealer.update after final')
    this.#size += data.byteLength
    let off = 0
    while (off < data.byteLength) {
      const n = Math.min(this.chunkSize - this.#staged, data.byteLength - off)
      const stage = this.#room(this.#staged + n)
      stage.set(data.subarray(off, off + n), this.#staged)
      this.#staged += n
      off += n
      if (this.#staged === this.chunkSize) {
        this.#staged = 0
        await this.#sealFull(stage)
      }
    }
  }

  /** Seals what is staged (a short last chunk), waits for the thread, and describes the object. */
  async final(): Promise<{ last: SealedChunk | undefined; object: SealedObject }> {
    if (this.#done) throw new Error('ThreadedSealer.final called twice')
    this.#done = true
    let last: SealedChunk | undefined
    if (this.#staged > 0) {
      const index = this.#plain.length
      const plain = (this.#stage as Buffer).subarray(0, this.#staged)
      const { plainHash, ciphertext, hash } = sealChunk(this.#chunkKey, index, plain)
      this.#plain.push({ length: plain.byteLength, hash: plainHash })
      this.#cipher.push({ length: ciphertext.byteLength, hash })
      last = { index, ciphertext, hash }
    }
    this.#stage = undefined
    this.#free.length = 0
    const plain = await Promise.all(this.#plain.map(async (c) => ({ length: c.length, hash: await c.hash })))
    return {
      last,
      object: describeObject(this.#objectKey, this.#manifestKey, this.#size, plain, this.#cipher),
    }
  }

  async #sealFull(stage: Buffer): Promise<void> {
    const index = this.#plain.length
    const length = stage.byteLength // read first: a buffer that moved to the thread reads as empty
    const ciphertext = cryptChunk(this.#chunkKey, index, stage)
    const hash = createHash('sha256').update(ciphertext).digest()
    if (this.#thread) {
      // The stage moves to the thread for its hash and comes back to stage a later chunk.
      this.#stage = undefined
      const onThread = this.#thread.hash(stage).then(({ hash, plain }) => {
        this.#free.push(plain)
        return hash
      })
      // A failure surfaces at the next wait for the thread (here or in `final`); this keeps it handled.
      onThread.catch(() => {})
      this.#plain.push({ length, hash: onThread })
      this.#onThread.push(onThread)
    } else {
      this.#plain.push({ length, hash: createHash('sha256').update(stage).digest() })
    }
    this.#cipher.push({ length: ciphertext.byteLength, hash })
    await this.#emit({ index, ciphertext, hash })
    while (this.#onThread.length >= this.#ahead) await this.#onThread.shift()
  }

  /**
   * The staging buffer, grown to hold `need` bytes (up to a chunk). Once a chunk has filled, the
   * object is a large one and each new stage is a whole chunk at once, one back from the thread
   * where there is one.
   */
  #room(need: number): Buffer {
    const old = this.#stage
    if (old && old.byteLength >= need) return old
    const size =
      this.#plain.length > 0
        ? this.chunkSize
        : Math.min(this.chunkSize, Math.max(need, 2 * (old?.byteLength ?? 0), MIN_STAGE))
    const stage = this.#free.pop() ?? Buffer.allocUnsafeSlow(size)
    if (old) old.copy(stage, 0, 0, this.#staged)
    this.#stage = stage
    return stage
  }
}
