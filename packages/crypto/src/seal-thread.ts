import { Worker } from 'node:worker_threads'
import { SealThreadError } from './errors.js'
import type { ChunkSeal } from './seal-chunk.js'

/** A chunk to seal, as sent to the thread: `plain`'s first `length` bytes, its buffer moved there. */
export interface SealRequest {
  id: number
  chunkKey: Uint8Array
  index: number
  plain: ArrayBuffer
  length: number
}

/** The thread's answer: the hashes, the ciphertext, and the plaintext's buffer moved back. */
export interface SealReply {
  id: number
  plainHash: Uint8Array
  hash: Uint8Array
  ciphertext: ArrayBuffer
  plain: ArrayBuffer
}

/** A chunk sealed on the thread, and the buffer its plaintext came in (free for the next chunk). */
export interface ThreadSeal extends ChunkSeal {
  plain: Buffer
}

/*
 * The worker's file, built beside this one's: dist/ in this package (src/ and dist/ sit at the same
 * depth, so the path serves both), and dist/ of an app that bundles it (apps/node).
 */
const WORKER_URL = new URL('../dist/seal-worker.js', import.meta.url)

/**
 * A worker thread that seals chunks (SHA-256, AES-256-CTR, SHA-256), so that a large put's sealing
 * runs beside the thread that receives its bytes. Started on first use and unref'd (it never keeps a
 * process alive). A thread that fails fails the chunks it held with SealThreadError; the next chunk
 * starts a new one.
 */
export class SealThread {
  #worker: Worker | undefined
  #nextId = 0
  readonly #waiting = new Map<
    number,
    { resolve: (seal: ThreadSeal) => void; reject: (err: SealThreadError) => void }
  >()
  #closed = false

  /** Chunks given to the thread and not yet answered. */
  get pending(): number {
    return this.#waiting.size
  }

  /**
   * Seals chunk `index` (`plain`'s bytes) under `chunkKey`. `plain` must be its whole ArrayBuffer
   * (`Buffer.allocUnsafeSlow`): the buffer moves to the thread and is unusable here until the answer
   * gives it back as `plain`.
   */
  seal(chunkKey: Uint8Array, index: number, plain: Buffer): Promise<ThreadSeal> {
    if (this.#closed) return Promise.reject(new SealThreadError('the seal thread is closed'))
    const buffer = plain.buffer
    // Moving a view would move the whole ArrayBuffer under it (for a small Buffer, the shared pool).
    if (
      !(buffer instanceof ArrayBuffer) ||
      plain.byteOffset !== 0 ||
      plain.byteLength !== buffer.byteLength
    ) {
      throw new RangeError(
        'SealThread.seal takes a buffer that is its whole ArrayBuffer (Buffer.allocUnsafeSlow)',
      )
    }
    const worker = this.#start()
    const id = this.#nextId++
    return new Promise<ThreadSeal>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject })
      const req: SealRequest = { id, chunkKey, index, plain: buffer, length: plain.byteLength }
      worker.postMessage(req, [buffer])
    })
  }

  /** Stops the thread; chunks it still held fail with SealThreadError. */
  async close(): Promise<void> {
    this.#closed = true
    const worker = this.#worker
    this.#worker = undefined
    this.#fail(new SealThreadError('the seal thread was closed'))
    await worker?.terminate()
  }

  #start(): Worker {
    if (this.#worker) return this.#worker
    const worker = new Worker(WORKER_URL)
    worker.unref()
    worker.on('message', (reply: SealReply) => {
      const waiter = this.#waiting.get(reply.id)
      if (!waiter) return
      this.#waiting.delete(reply.id)
      waiter.resolve({
        plainHash: Buffer.from(reply.plainHash),
        hash: Buffer.from(reply.hash),
        ciphertext: Buffer.from(reply.ciphertext),
        plain: Buffer.from(reply.plain),
      })
    })
    const lost = (why: string, cause?: unknown): void => {
      if (this.#worker !== worker) return
      this.#worker = undefined
      this.#fail(new SealThreadError(`the seal thread ${why}`, cause === undefined ? undefined : { cause }))
    }
    worker.on('error', (err) => lost(`failed: ${err.message}`, err))
    worker.on('exit', (code) => lost(`exited (code ${code})`))
    this.#worker = worker
    return worker
  }

  #fail(err: SealThreadError): void {
    const waiting = [...this.#waiting.values()]
    this.#waiting.clear()
    for (const w of waiting) w.reject(err)
  }
}
