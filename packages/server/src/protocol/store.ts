import { createHash } from 'node:crypto'
import { MAX_OBJECT_CHUNK_SIZE } from '@cas/crypto'
import { describeError, forPeer, type IncomingRequest, type Peer, RemoteError } from '@cas/p2p'
import type { ObjectWriter } from '@cas/store'
import type { ServerContext } from '../context.js'
import {
  BadRequestError,
  HolderStalledError,
  ReplicaMismatchError,
  StaleReplicaError,
  UnauthorizedError,
} from '../errors.js'
import { HELD_REPLICA_OVERHEAD, type HeldReplicas } from '../held-replicas.js'
import { LinkedAbort } from '../linked-abort.js'
import {
  type CommitChunk,
  chunksMatch,
  MAX_CHUNKS,
  openSignedCommit,
  type SignedCommit,
} from '../object/commit.js'
import { RECORD_CHUNK, readRecords } from '../object/record-stream.js'
import { replicaTrailer } from '../object/replica-file.js'
import { type RateLimiter, throttled } from '../rate-limiter.js'
import {
  MAX_SMALL_BATCH_BYTES,
  MAX_SMALL_REPLICAS,
  type StoreRequest,
  type StoreSmallRequest,
  storeResponseSchema,
  storeSmallResponseSchema,
} from './messages.js'
import { logRefusal } from './refusals.js'

/**
 * The `store` and `store-small` operations, both sides. The owner streams a replica as records
 * (ciphertext chunks, then its signed commit), or sends small ones whole, several to a request; the
 * holder hashes each chunk and keeps the replica only if the owner signed exactly those bytes, for
 * this namespace, and not before what it already holds or a delete.
 */

export interface StoreDeps {
  ctx: ServerContext
  held: HeldReplicas
  /** Refuses a commit issued too far in the future. */
  checkFresh: (issuedAt: number) => void
  /** Refuses when the disk would keep less than `minFreeDisk` free after `coming` more bytes. */
  checkDisk: (coming: number) => Promise<void>
}

/** How often a store in progress looks at the disk's free space again. */
const DISK_CHECK_BYTES = 64 * 1024 * 1024

export async function handleStore(deps: StoreDeps, req: IncomingRequest, body: StoreRequest) {
  const data = req.data
  if (!data) throw new BadRequestError('a store request carries the replica as data')
  const size = await storeReplica(deps, req, body.ownerId, async (writer, reserve) => {
    let sinceDiskCheck = 0
    await deps.checkDisk(0)
    const received: CommitChunk[] = []
    let signed: SignedCommit | undefined
    for await (const rec of readRecords(data, MAX_OBJECT_CHUNK_SIZE)) {
      if (rec.type === RECORD_CHUNK) {
        if (received.length >= MAX_CHUNKS) throw new BadRequestError(`more than ${MAX_CHUNKS} chunks`)
        reserve(rec.length)
        sinceDiskCheck += rec.length
        if (sinceDiskCheck >= DISK_CHECK_BYTES) {
          await deps.checkDisk(sinceDiskCheck)
          sinceDiskCheck = 0
        }
        const hash = createHash('sha256')
        for (const part of rec.parts) {
          hash.update(part)
          await writer.append(part)
        }
        received.push({ length: rec.length, hash: hash.digest() })
      } else {
        signed = openSignedCommit(Buffer.concat(rec.parts))
      }
    }
    return { signed: signed as SignedCommit, received }
  })
  return { stored: true as const, size }
}

/**
 * A batch of small replicas sent whole (`store-small`): each is checked and kept as a streamed store
 * keeps it, all at once so that their pack appends and held records share one flush each, and each
 * gets its own answer: one refused replica (a replay, a full quota) does not refuse the others.
 */
export async function handleStoreSmall(deps: StoreDeps, req: IncomingRequest, body: StoreSmallRequest) {
  await deps.checkDisk(body.replicas.reduce((n, r) => n + r.chunk.byteLength + r.commit.byteLength, 0))
  const results = await Promise.all(
    body.replicas.map(async ({ chunk, commit }) => {
      try {
        const size = await storeReplica(deps, req, body.ownerId, async (writer, reserve) => {
          reserve(chunk.byteLength)
          const signed = openSignedCommit(Buffer.from(commit.buffer, commit.byteOffset, commit.byteLength))
          await writer.append(chunk)
          const received = [{ length: chunk.byteLength, hash: createHash('sha256').update(chunk).digest() }]
          return { signed, received }
        })
        return { stored: true as const, size }
      } catch (err) {
        logRefusal(deps.ctx.logger, req.peer.nodeId, body.op, err)
        return forPeer(describeError(err))
      }
    }),
  )
  return { results }
}

/**
 * One replica coming in, by stream or whole: a writer in the owner's namespace, the replica's charge
 * reserved as its bytes come (`receive` writes them and says what arrived), then kept (keepReplica).
 * On any failure the writer is discarded and the reservation given back. Resolves with its size.
 */
async function storeReplica(
  deps: StoreDeps,
  req: IncomingRequest,
  ownerId: string,
  receive: (
    writer: ObjectWriter,
    reserve: (n: number) => void,
  ) => Promise<{ signed: SignedCommit; received: CommitChunk[] }>,
): Promise<number> {
  const { ctx, held } = deps
  const writer = await ctx.store.writer({ namespace: ownerId })
  let reserved = 0
  const reserve = (n: number) => {
    held.reserve(ownerId, n)
    reserved += n
  }
  try {
    // The replica's fixed cost first: a stream of empty replicas is refused by the quota too.
    reserve(HELD_REPLICA_OVERHEAD)
    const { signed, received } = await receive(writer, reserve)
    const size = await keepReplica(deps, ownerId, writer, signed, received, reserve)
    ctx.onTransfer({ direction: 'in', kind: 'replica', nodeId: req.peer.nodeId, bytes: signed.dataBytes })
    return size
  } catch (err) {
    await writer.discard()
    held.release(ownerId, reserved)
    throw err
  }
}

/**
 * The end of a store, whole or streamed: checks that the owner signed exactly the chunks received, for
 * this namespace, and not before what is held or a delete; then appends the commit as the replica's
 * trailer, commits the file and records it as held (flushed). Resolves with the replica's size.
 */
async function keepReplica(
  deps: StoreDeps,
  ownerId: string,
  writer: ObjectWriter,
  s: SignedCommit,
  received: readonly CommitChunk[],
  reserve: (n: number) => void,
): Promise<number> {
  const { ctx, held } = deps
  const { commit } = s
  if (commit.ownerId !== ownerId) throw new UnauthorizedError('the commit names another namespace')
  deps.checkFresh(commit.issuedAt)
  if (!chunksMatch(commit, received)) {
    throw new ReplicaMismatchError(
      `the bytes received are not those the owner signed for ${commit.locator.slice(0, 12)}`,
    )
  }
  const trailer = replicaTrailer(s)
  reserve(trailer.byteLength)
  await writer.append(trailer)
  const size = s.dataBytes + trailer.byteLength
  // From the tombstone and the record read to the record written, alone for this replica.
  await held.exclusive(ownerId, commit.locator, async () => {
    const deletedAt = ctx.catalogue.getTombstone(ownerId, commit.locator)
    if (deletedAt !== undefined && commit.issuedAt < deletedAt) {
      throw new StaleReplicaError('a store signed before the owner deleted this replica (a replay)')
    }
    const prev = ctx.catalogue.getHeld(ownerId, commit.locator)
    if (
      prev &&
      (commit.issuedAt < prev.writtenAt || (commit.issuedAt === prev.writtenAt && prev.digest !== s.digest))
    ) {
      throw new StaleReplicaError(
        'a store signed before the replica already held (an older upload, or a replay)',
      )
    }
    await writer.commit(commit.locator)
    await ctx.catalogue.putHeld(ownerId, commit.locator, {
      size,
      writtenAt: commit.issuedAt,
      digest: s.digest,
    })
    held.stored(ownerId, prev?.size)
  })
  return size
}

/** Sends a whole replica (records from `records`) to one peer and resolves once it is stored there. */
export async function sendReplica(
  ctx: ServerContext,
  peer: Peer,
  records: AsyncIterable<Uint8Array>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const data = throttled(records, ctx.replicationLimiter, signal)
  const res = await peer.request(
    { op: 'store', v: 2, ownerId: ctx.ownerId },
    signal ? { data, signal } : { data },
  )
  storeResponseSchema.parse(res.body)
}

export interface HolderUploadOptions {
  /** Bytes queued for this holder before the put waits for it. */
  queueBytes: number
  /** How long the put waits for a holder whose queue is full (or that is not answering) before dropping it, in ms. */
  stallMs: number
  /** How long a holder that took everything has to answer (hash, fsync, rename), in ms. */
  answerMs: number
  signal: AbortSignal
  /** Shared limit on replica bytes sent by this node (`replicationRate`); time spent waiting on it is not a stall. */
  limiter?: RateLimiter | undefined
  onBytes?: (n: number) => void
}

/**
 * One holder's side of a put: its own bounded queue of records, drained by
 * the store request as the holder grants credit. A holder that takes nothing
 * for `stallMs` while its queue is full, or that fails, is dropped from the
 * put without holding the others back.
 */
export class HolderUpload {
  readonly nodeId: string
  readonly #opts: HolderUploadOptions
  readonly #abort: LinkedAbort
  readonly #queue: { bytes: Uint8Array; progress: number }[] = []
  #queued = 0
  #ended = false
  #error: unknown
  #lastTaken = Date.now()
  /** True while the drain waits on the rate limiter: the holder is not behind, this node is holding back. */
  #throttled = false
  readonly #signal: AbortSignal
  #wakeReader: (() => void) | undefined
  #wakeWriter: (() => void) | undefined
  readonly #done: Promise<void>

  constructor(peer: Peer, ownerId: string, opts: HolderUploadOptions) {
    this.nodeId = peer.nodeId
    this.#opts = opts
    this.#abort = new LinkedAbort([opts.signal])
    const signal = this.#abort.signal
    this.#signal = signal
    this.#done = peer
      .request({ op: 'store', v: 2, ownerId }, { data: this.#drain(), signal })
      .then((res) => {
        storeResponseSchema.parse(res.body)
      })
      .finally(() => this.#abort.release())
    this.#done.catch((err) => this.#fail(err))
  }

  get failed(): unknown {
    return this.#error
  }

  /**
   * Queues bytes; waits while the queue is full, at most `stallMs` without
   * the holder taking anything, then drops it. Returns false once dropped. `progress` is reported
   * through `onBytes` when the holder takes these bytes (payload, not framing).
   */
  async push(bytes: Uint8Array, progress = 0): Promise<boolean> {
    while (
      this.#error === undefined &&
      this.#queued > 0 &&
      this.#queued + bytes.byteLength > this.#opts.queueBytes
    ) {
      const waited = this.#quiet()
      if (waited >= this.#opts.stallMs) {
        this.drop(new HolderStalledError(this.nodeId, this.#opts.stallMs))
        break
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#opts.stallMs - waited)
        this.#wakeWriter = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.#wakeWriter = undefined
    }
    if (this.#error !== undefined) return false
    // The stall clock runs only while something waits to be taken.
    if (this.#queued === 0) this.#lastTaken = Date.now()
    this.#queue.push({ bytes, progress })
    this.#queued += bytes.byteLength
    this.#wakeReader?.()
    return true
  }

  /** Ends the stream and resolves once the holder stored the replica; rejects when it was dropped or refused. */
  async finish(): Promise<void> {
    this.#ended = true
    this.#wakeReader?.()
    // Watch for a holder that stops taking its queue: drop it after stallMs rather than a request timeout.
    const watch = setInterval(
      () => {
        const quiet = this.#quiet()
        if (this.#queued > 0 && quiet >= this.#opts.stallMs) {
          this.drop(new HolderStalledError(this.nodeId, this.#opts.stallMs))
        } else if (this.#queued === 0 && quiet >= this.#opts.answerMs) {
          this.drop(new HolderStalledError(this.nodeId, this.#opts.answerMs))
        }
      },
      Math.max(10, Math.floor(this.#opts.stallMs / 4)),
    )
    try {
      await this.#done
    } finally {
      clearInterval(watch)
    }
    if (this.#error !== undefined) throw this.#error
  }

  #quiet(): number {
    return this.#throttled ? 0 : Date.now() - this.#lastTaken
  }

  drop(reason: unknown): void {
    if (this.#error !== undefined) return
    this.#fail(reason)
    this.#abort.abort(reason)
  }

  #fail(err: unknown): void {
    this.#error ??= err ?? new Error('holder upload failed')
    this.#queue.length = 0
    this.#queued = 0
    this.#wakeWriter?.()
    this.#wakeReader?.()
  }

  async *#drain(): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.#error !== undefined) throw this.#error
      const first = this.#queue[0]
      if (first && this.#opts.limiter) {
        this.#throttled = true
        try {
          await this.#opts.limiter.take(first.bytes.byteLength, this.#signal)
        } finally {
          this.#throttled = false
          this.#lastTaken = Date.now()
        }
        if (this.#error !== undefined) throw this.#error
      }
      const next = this.#queue.shift()
      if (next) {
        this.#queued -= next.bytes.byteLength
        this.#lastTaken = Date.now()
        if (next.progress > 0) this.#opts.onBytes?.(next.progress)
        this.#wakeWriter?.()
        yield next.bytes
        continue
      }
      if (this.#ended) return
      await new Promise<void>((resolve) => {
        this.#wakeReader = resolve
      })
      this.#wakeReader = undefined
    }
  }
}

/**
 * The owner's side of `store-small`: replicas of one chunk queued for a holder during one turn of the
 * event loop leave together in one request (at most MAX_SMALL_REPLICAS, MAX_SMALL_BATCH_BYTES), so
 * that concurrent small puts cost each holder one request, one pack flush and one catalogue flush
 * between them instead of one each. Nothing waits on a timer: a lone put's replica leaves at the end
 * of its turn.
 */
export class SmallReplicaSender {
  readonly #queues = new Map<string, { peer: Peer; items: SmallItem[] }>()
  #scheduled = false

  /** `timeout`: how long a holder has to store a batch and answer, in ms. */
  constructor(
    private readonly ownerId: string,
    private readonly timeout: number,
  ) {}

  /** Resolves once `peer` stored the replica (`chunk`, then the signed commit); rejects with why not. */
  send(peer: Peer, chunk: Uint8Array, commit: Uint8Array, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      let queue = this.#queues.get(peer.nodeId)
      if (!queue) {
        queue = { peer, items: [] }
        this.#queues.set(peer.nodeId, queue)
      }
      queue.items.push({ chunk, commit, signal, resolve, reject })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(this.#flush)
      }
    })
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    const queues = [...this.#queues.values()]
    this.#queues.clear()
    for (const { peer, items } of queues) {
      let batch: SmallItem[] = []
      let bytes = 0
      for (const item of items) {
        if (item.signal.aborted) {
          item.reject(item.signal.reason)
          continue
        }
        const size = item.chunk.byteLength + item.commit.byteLength
        if (
          batch.length >= MAX_SMALL_REPLICAS ||
          (batch.length > 0 && bytes + size > MAX_SMALL_BATCH_BYTES)
        ) {
          void this.#request(peer, batch)
          batch = []
          bytes = 0
        }
        batch.push(item)
        bytes += size
      }
      if (batch.length > 0) void this.#request(peer, batch)
    }
  }

  async #request(peer: Peer, batch: SmallItem[]): Promise<void> {
    try {
      const res = await peer.request(
        {
          op: 'store-small',
          v: 2,
          ownerId: this.ownerId,
          replicas: batch.map((i) => ({ chunk: i.chunk, commit: i.commit })),
        },
        { timeout: this.timeout },
      )
      const { results } = storeSmallResponseSchema.parse(res.body)
      batch.forEach((item, i) => {
        const r = results[i]
        if (r && 'stored' in r) item.resolve()
        else if (r) item.reject(new RemoteError(r.code, r.message))
        else item.reject(new RemoteError('ERR_BAD_RESPONSE', 'the holder answered fewer replicas than sent'))
      })
    } catch (err) {
      for (const item of batch) item.reject(err)
    }
  }
}

interface SmallItem {
  chunk: Uint8Array
  commit: Uint8Array
  signal: AbortSignal
  resolve: () => void
  reject: (err: unknown) => void
}
