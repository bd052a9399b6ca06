import type { ManifestChunk } from './manifest.js'
import {
  describeObject,
  type ObjectSealerOptions,
  type SealedChunk,
  type SealedObject,
  sealerKeys,
} from './object-sealer.js'
import { sealChunk } from './seal-chunk.js'
import type { SealThread, ThreadSeal } from './seal-thread.js'

/** The staging buffer's first size: a small object does not cost a whole chunk of memory. */
const MIN_STAGE = 4096
/** Full chunks on the thread at once by default: one sealing while the next is received. */
const DEFAULT_AHEAD = 2

export interface ThreadedSealerOptions extends ObjectSealerOptions {
  /** Where full chunks are sealed; without one, on the caller's thread (as ObjectSealer does). */
  thread?: SealThread | undefined
  /** Full chunks given to the thread and not yet emitted, at most (1 or more). Default 2. */
  ahead?: number
}

/**
 * ObjectSealer with each full chunk sealed on a SealThread: the same bytes, while the caller's
 * thread goes on taking the next chunk's plaintext. Full chunks come out through `emit`, in order,
 * one at a time; `update` waits while `ahead` chunks are on the thread or being emitted, so memory
 * stays at a few chunks. A short last chunk (a small object's only one) is sealed here at `final`:
 * handing it to the thread would only add a round trip.
 */
export class ThreadedSealer {
  readonly chunkSize: number
  readonly #thread: SealThread | undefined
  readonly #emit: (chunk: SealedChunk) => Promise<void>
  readonly #ahead: number
  readonly #objectKey: Buffer
  readonly #chunkKey: Uint8Array
  readonly #manifestKey: Buffer
  readonly #plain: ManifestChunk[] = []
  readonly #cipher: { length: number; hash: Buffer }[] = []
  readonly #inFlight: { index: number; length: number; sealed: Promise<ThreadSeal> }[] = []
  readonly #free: Buffer[] = []
  #stage: Buffer | undefined
  #staged = 0
  #size = 0
  #nextIndex = 0
  #done = false

  constructor(emit: (chunk: SealedChunk) => Promise<void>, opts: ThreadedSealerOptions = {}) {
    const keys = sealerKeys(opts)
    this.chunkSize = keys.chunkSize
    this.#objectKey = keys.objectKey
    // A copy of its own: a key that is a view into a shared pool would send the whole pool each time.
    this.#chunkKey = new Uint8Array(keys.chunkKey)
    this.#manifestKey = keys.manifestKey
    this.#thread = opts.thread
    this.#emit = emit
    // Sealed here, a chunk is ready at once: waiting for the next before emitting it would gain nothing.
    this.#ahead = opts.thread ? Math.max(1, opts.ahead ?? DEFAULT_AHEAD) : 1
  }

  /** Plaintext bytes taken so far. */
  get size(): number {
    return this.#size
  }

  /** Takes plaintext; resolves once it is staged, waiting while `ahead` chunks are on their way. The caller may reuse `data` afterwards. */
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
        this.#stage = undefined
        this.#staged = 0
        const index = this.#nextIndex++
        const length = stage.byteLength // read first: sealing on the thread detaches the buffer
        const sealed = this.#thread
          ? this.#thread.seal(this.#chunkKey, index, stage)
          : Promise.resolve({ ...sealChunk(this.#chunkKey, index, stage), plain: stage })
        // Failures surface when the chunk's turn to be emitted comes; this only keeps them handled.
        sealed.catch(() => {})
        this.#inFlight.push({ index, length, sealed })
        while (this.#inFlight.length >= this.#ahead) await this.#emitOldest()
      }
    }
  }

  /** Emits every chunk still on the thread, seals what is staged (a short last chunk) and describes the object. */
  async final(): Promise<{ last: SealedChunk | undefined; object: SealedObject }> {
    if (this.#done) throw new Error('ThreadedSealer.final called twice')
    this.#done = true
    while (this.#inFlight.length > 0) await this.#emitOldest()
    let last: SealedChunk | undefined
    if (this.#staged > 0) {
      const index = this.#nextIndex++
      const plain = (this.#stage as Buffer).subarray(0, this.#staged)
      const { plainHash, ciphertext, hash } = sealChunk(this.#chunkKey, index, plain)
      this.#record(plain.byteLength, plainHash, ciphertext.byteLength, hash)
      last = { index, ciphertext, hash }
    }
    this.#stage = undefined
    this.#free.length = 0
    return {
      last,
      object: describeObject(this.#objectKey, this.#manifestKey, this.#size, this.#plain, this.#cipher),
    }
  }

  async #emitOldest(): Promise<void> {
    const next = this.#inFlight.shift()
    if (!next) return
    const { plainHash, ciphertext, hash, plain } = await next.sealed
    this.#free.push(plain)
    this.#record(next.length, plainHash, ciphertext.byteLength, hash)
    await this.#emit({ index: next.index, ciphertext, hash })
  }

  #record(plainLength: number, plainHash: Buffer, cipherLength: number, hash: Buffer): void {
    this.#plain.push({ length: plainLength, hash: plainHash })
    this.#cipher.push({ length: cipherLength, hash })
  }

  /** The staging buffer, grown to hold `need` bytes (up to a chunk); a full one comes back from the thread to be used again. */
  #room(need: number): Buffer {
    const old = this.#stage
    if (old && old.byteLength >= need) return old
    const reused = this.#free.pop()
    const stage =
      reused ??
      Buffer.allocUnsafeSlow(Math.min(this.chunkSize, Math.max(need, 2 * (old?.byteLength ?? 0), MIN_STAGE)))
    if (old) old.copy(stage, 0, 0, this.#staged)
    this.#stage = stage
    return stage
  }
}
