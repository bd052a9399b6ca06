import { Worker } from 'node:worker_threads'
import { SealThreadError } from './errors.js'

/** A chunk's plaintext to hash, as sent to the thread: its buffer moves there. */
export interface HashRequest {
  id: number
  plain: ArrayBuffer
  length: number
}

/** The thread's answer: the request with the hash, the buffer moved back. */
export interface HashReply extends HashRequest {
  hash: Uint8Array
}

/** A plaintext chunk's SHA-256, with its buffer back. */
export interface PlainHash {
  hash: Buffer
  plain: Buffer
}

/*
 * The worker's file, built beside this one's: dist/ in this package (src/ and dist/ sit at the same
 * depth, so the path serves both), and dist/ of an app that bundles it (apps/node).
 */
const WORKER_URL = new URL('../dist/seal-worker.js', import.meta.url)

/**
 * A worker thread for part of sealing a chunk: the SHA-256 of its plaintext, so that a large put's
 * hashing runs beside the thread that receives its bytes. Only the plaintext's staging buffer moves
 * there and back (a transfer, not a copy; it is staged into again), and nothing is allocated there.
 * The ciphertext stays on the calling thread: a buffer that moves between threads and is then
 * dropped is memory the collector is not told about, and a large put's peak RSS grew by a third
 * when ciphertexts moved. Started on first use and unref'd (it never keeps a process alive). A
 * thread that fails fails the chunks it held with SealThreadError; the next chunk starts a new one.
 */
export class SealThread {
  readonly #workerUrl: URL
  #worker: Worker | undefined
  #nextId = 0
  readonly #waiting = new Map<
    number,
    { resolve: (hashed: PlainHash) => void; reject: (err: SealThreadError) => void }
  >()
  #closed = false

  /** `workerUrl`: the worker's file; the built `seal-worker.js` by default (another only in tests). */
  constructor(opts: { workerUrl?: URL } = {}) {
    this.#workerUrl = opts.workerUrl ?? WORKER_URL
  }

  /** Chunks given to the thread and not yet answered. */
  get pending(): number {
    return this.#waiting.size
  }

  /**
   * The SHA-256 of `plain`, which must be its whole ArrayBuffer (`Buffer.allocUnsafeSlow`): the
   * buffer moves to the thread, is unusable here meanwhile, and comes back in the answer.
   */
  hash(plain: Buffer): Promise<PlainHash> {
    if (this.#closed) return Promise.reject(new SealThreadError('the seal thread is closed'))
    const buffer = plain.buffer
    // Moving a view would move the whole ArrayBuffer under it (for a small Buffer, the shared pool).
    if (
      !(buffer instanceof ArrayBuffer) ||
      plain.byteOffset !== 0 ||
      plain.byteLength !== buffer.byteLength
    ) {
      throw new RangeError(
        'SealThread.hash takes a buffer that is its whole ArrayBuffer (Buffer.allocUnsafeSlow)',
      )
    }
    const worker = this.#start()
    const id = this.#nextId++
    return new Promise<PlainHash>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject })
      const req: HashRequest = { id, plain: buffer, length: plain.byteLength }
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
    const worker = new Worker(this.#workerUrl)
    worker.unref()
    worker.on('message', (reply: HashReply) => {
      const waiter = this.#waiting.get(reply.id)
      if (!waiter) return
      this.#waiting.delete(reply.id)
      waiter.resolve({
        hash: Buffer.from(reply.hash.buffer, reply.hash.byteOffset, 32),
        plain: Buffer.from(reply.plain, 0, reply.length),
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
