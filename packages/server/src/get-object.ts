import { Readable } from 'node:stream'
import { chunksOfRange, ObjectOpener, openObjectKey } from '@cas/crypto'
import type { Peer } from '@cas/p2p'
import type { ObjectWriter } from '@cas/store'
import type { ServerContext } from './context.js'
import {
  DamagedObjectError,
  DamagedReplicasError,
  errorCode,
  HoldersUnreachableError,
  InvalidRangeError,
  NotFoundError,
} from './errors.js'
import { ChunkBroker, type ChunkSource, NoSourceLeftError } from './object/chunk-broker.js'
import type { SignedCommit } from './object/commit.js'
import type { ObjectRef } from './object/object-ref.js'
import { type ReplicaHead, readChunks, readReplicaHead, replicaTrailer } from './object/replica-file.js'
import { connectedPeers, livePeers, lookupWaves } from './placement.js'
import { fetchChunks, fetchCommit } from './protocol/fetch.js'
import type { GetOptions, GetResult, Replication, SkippedPeer } from './types.js'

export interface GetTuning {
  /** Chunks asked of a source in one request. */
  batch: number
  /** Requests in flight per source. */
  window: number
  /** Longest silence of a holder inside a chunk request before its chunks go to another, in ms. */
  chunkStallMs: number
}

export interface GetHooks {
  /** Holders that served bad bytes (not merely slow ones): the owner sends them a fresh replica. */
  onBadHolders: (cid: string, nodeIds: string[]) => void
  /** The local copy failed a check: fetch a good one to replace it. */
  onLocalDamaged: (cid: string) => void
}

interface Opened {
  opener: ObjectOpener
  sources: ChunkSource[]
  /** Settles once every holder asked has answered (or not): more sources may join until then. */
  lookups?: Promise<void>
  /** The commit of the upload being read, when it came from holders (to cache it). */
  signed?: SignedCommit
  objectKey?: Uint8Array
  first?: string
}

/**
 * Serves gets as verified streams: the manifest first, then chunks, each
 * checked before it is released, so the first byte does not wait for the
 * last. The local replica is read first; a missing or damaged one is fetched
 * from holders, several at once, and a whole-object get caches what it
 * fetched. A `Range` reads only the chunks it touches.
 */
export class Getter {
  constructor(private readonly hooks: GetHooks) {}

  async get(
    ctx: ServerContext,
    ref: ObjectRef,
    opts: GetOptions & { signal: AbortSignal; skipLocal?: boolean },
    replication: Replication,
    tuning: GetTuning,
  ): Promise<GetResult> {
    const range = byteRange(opts)
    const { cid } = ref
    const skipped: SkippedPeer[] = []
    const local = opts.skipLocal ? undefined : await openLocal(ctx, ref, opts.signal)
    const damaged = local === 'damaged'
    let opened: Opened
    // Holders whose commits arrive after the first join the broker; those that come before it exists wait here.
    const early: ChunkSource[] = []
    let join = (s: ChunkSource) => {
      early.push(s)
    }
    const addLater = (s: ChunkSource) => join(s)
    if (local !== undefined && local !== 'damaged') {
      opened = local
    } else {
      try {
        opened = await openRemote(ctx, ref, opts.signal, skipped, tuning, addLater)
      } catch (err) {
        if (damaged && !opts.signal.aborted) throw new DamagedObjectError(cid, err)
        throw err
      }
    }
    const { opener } = opened
    const size = opener.size
    const start = range.start ?? 0
    const end = Math.min(range.end ?? size - 1, size - 1)
    const span = chunksOfRange(opener.manifest, start, end)
    const whole = start === 0 && end >= size - 1
    const prev = ctx.catalogue.getObject(cid)
    const recorded = ref.shared ? [] : (prev?.holders ?? [])
    if (opened.signed) {
      await ctx.catalogue.putObject({
        cid,
        size,
        names: [],
        created: prev?.created ?? Date.now(),
        // A get must not change how many replicas the owner asked for.
        replication: prev?.replication ?? (ref.shared ? 0 : replication),
        holders: ref.shared || !opened.first ? [] : [opened.first],
        shared: ref.shared,
        ...(ref.shared && { ownerId: ref.ownerId, locator: ref.locator, objectKey: ref.objectKey }),
      })
    }
    // Made when the stream is first read: a stream dropped unread (a HEAD, a re-opened Range) leaves nothing open.
    let cache: ObjectWriter | undefined
    const badHolders = new Set<string>()
    let localFailed = false
    const broker = span
      ? new ChunkBroker(opened.sources, {
          first: span.first,
          last: span.last,
          batch: tuning.batch,
          window: tuning.window,
          signal: opts.signal,
          keepCiphertext: Boolean(opened.signed && whole),
          onChunk: () => {
            ctx.counters.chunksRead++
          },
          onBad: (source, err) => {
            const code = errorCode(err) ?? 'ERR_UNKNOWN'
            const message = err instanceof Error ? err.message : String(err)
            if (source.id === 'local') {
              localFailed = true
              ctx.logger.warn(
                { cid, err: message },
                'local copy is damaged: fetching a good replica to replace it',
              )
              return
            }
            skipped.push({ nodeId: source.id, code, message })
            ctx.onBadPeer({ nodeId: source.id, cid, code, message })
            if (!TRANSIENT.has(code)) badHolders.add(source.id)
          },
          // The local copy failed mid-way: go on from the holders.
          ...(opened.signed
            ? {}
            : {
                moreSources: async () => {
                  const more = await openRemote(ctx, ref, opts.signal, skipped, tuning, (s) => broker?.add(s))
                  if (more.lookups) broker?.expect(more.lookups)
                  return more.sources
                },
              }),
        })
      : undefined
    if (broker) {
      if (opened.lookups) broker.expect(opened.lookups)
      for (const s of early) broker.add(s)
      join = (s) => broker.add(s)
    }
    let done = 0
    const hooks = this.hooks
    async function* body(): AsyncGenerator<Buffer> {
      let pos = span ? (opener.manifest.offsets[span.first] as number) : 0
      let cached = false
      const keepCache = async (writer: ObjectWriter, signed: SignedCommit) => {
        await writer.append(replicaTrailer(signed))
        await writer.commit(cid)
        cached = true
        const rec = ctx.catalogue.getObject(cid) ?? fallbackRecord(cid, size, ref)
        await ctx.catalogue.putObject({ ...rec, objectKey: opened.objectKey })
      }
      try {
        if (opened.signed && whole) cache = await ctx.store.writer({ namespace: 'self' })
        if (broker) {
          for await (const c of broker.chunks()) {
            if (cache) await cache.append(c.ciphertext)
            // The last byte leaves only once the cache is kept: a reader that saw it all finds the copy local.
            if (cache && opened.signed && c.index === span?.last) await keepCache(cache, opened.signed)
            const from = Math.max(start - pos, 0)
            const to = Math.min(c.plain.byteLength, end - pos + 1)
            pos += c.plain.byteLength
            done += to - from
            opts.onProgress?.({ phase: 'fetch', done, total: end - start + 1 })
            yield c.plain.subarray(from, to)
          }
        }
        // An empty object has no chunk to hold back.
        if (cache && opened.signed && !span) await keepCache(cache, opened.signed)
        cached = true
      } catch (err) {
        if (err instanceof NoSourceLeftError) {
          throw unreachableOrMissing(cid, skipped, localFailed || damaged, foundDamaged(ctx, ref))
        }
        throw err
      } finally {
        // A failure, or a reader that stopped early: nothing of a partial cache stays.
        if (!cached) await cache?.discard()
        // Recorded holders that served bad bytes, or had no replica left (a holder drops a damaged one): heal them.
        for (const s of skipped) {
          if (recorded.includes(s.nodeId) && !TRANSIENT.has(s.code)) badHolders.add(s.nodeId)
        }
        const servedBad = skipped.filter((s) => recorded.includes(s.nodeId) && BAD_BYTES.has(s.code))
        if (!ref.shared && servedBad.length > 0) {
          await ctx.catalogue
            .markDamaged(
              cid,
              servedBad.map((s) => s.nodeId),
            )
            .catch((e: unknown) =>
              ctx.logger.warn({ cid, err: String(e) }, 'could not record damaged replicas'),
            )
        }
        if (!ref.shared && badHolders.size > 0) hooks.onBadHolders(cid, [...badHolders])
        if (localFailed) hooks.onLocalDamaged(cid)
      }
    }
    const stream = Readable.from(body(), { objectMode: false, highWaterMark: 1024 * 1024 })
    // Stopping the node ends the stream; a reader sees it close early (no 'error' a caller might not listen for).
    const onAbort = () => stream.destroy()
    opts.signal.addEventListener('abort', onAbort, { once: true })
    stream.once('close', () => opts.signal.removeEventListener('abort', onAbort))
    return { cid, size, stream, source: opened.signed ? (opened.first as string) : 'local', skipped }
  }
}

function fallbackRecord(cid: string, size: number, ref: ObjectRef) {
  return { cid, size, names: [], created: Date.now(), replication: 0, holders: [], shared: ref.shared }
}

/** Failures that say nothing about a holder's copy: it may be fine once the peer answers again. */
const TRANSIENT = new Set([
  'ERR_TIMEOUT',
  'ERR_PEER_TIMEOUT',
  'ERR_CONNECTION_CLOSED',
  'ERR_ABORTED',
  'ERR_TOO_MANY_REQUESTS',
  'ERR_NOT_CONNECTED',
])
/** A holder served bytes that failed a check: the object exists, its copies are damaged. */
const BAD_BYTES = new Set(['ERR_INTEGRITY', 'ERR_REPLICA_MISMATCH'])
/** Why a peer may have served nothing although it holds the replica: it did not answer, or went away. */
const UNANSWERED = new Set(['ERR_TIMEOUT', 'ERR_PEER_TIMEOUT', 'ERR_CONNECTION_CLOSED'])

/**
 * Why a get found no source. `foundDamaged`: the catalogue's holders whose replica was found damaged
 * earlier (and then dropped by them): with no copy left anywhere, the object's copies were damaged,
 * which an integrity error says and "not found" would hide.
 */
function unreachableOrMissing(
  cid: string,
  skipped: SkippedPeer[],
  damaged: boolean,
  foundDamaged: Record<string, number> | undefined,
): Error {
  if (skipped.some((s) => UNANSWERED.has(s.code))) return new HoldersUnreachableError(cid, skipped)
  if (skipped.some((s) => BAD_BYTES.has(s.code))) return new DamagedReplicasError(cid, skipped)
  const earlier = Object.entries(foundDamaged ?? {})
  if (earlier.length > 0 && skipped.every((s) => s.code === 'ERR_NOT_FOUND')) {
    return new DamagedReplicasError(
      cid,
      earlier.map(([nodeId, at]) => ({
        nodeId,
        code: 'ERR_INTEGRITY',
        message: `served damaged bytes at ${new Date(at).toISOString()}; it removed that replica`,
      })),
    )
  }
  const notFound = new NotFoundError(cid, undefined, skipped)
  return damaged ? new DamagedObjectError(cid, notFound) : notFound
}

function foundDamaged(ctx: ServerContext, ref: ObjectRef): Record<string, number> | undefined {
  return ref.shared ? undefined : ctx.catalogue.getObject(ref.cid)?.damaged
}

/**
 * The local replica, opened and checked down to its manifest; 'damaged' when it exists but does not
 * open. Without a copy of its own, a node reads the replica it holds for its own owner (put by
 * another device of the owner, which may be gone): its chunks are checked as any holder's are.
 */
async function openLocal(
  ctx: ServerContext,
  ref: ObjectRef,
  signal: AbortSignal,
): Promise<Opened | 'damaged' | undefined> {
  const own = await openReplica(ctx, ref, 'self', ref.cid, signal)
  if (own !== undefined || ref.shared) return own
  return openReplica(ctx, ref, ctx.ownerId, ref.locator, signal)
}

async function openReplica(
  ctx: ServerContext,
  ref: ObjectRef,
  namespace: string,
  key: string,
  signal: AbortSignal,
): Promise<Opened | 'damaged' | undefined> {
  let head: ReplicaHead
  let opener: ObjectOpener
  try {
    head = await readReplicaHead(ctx.store, namespace, key)
    const objectKey = ref.shared
      ? ref.objectKey
      : openObjectKey(ctx.secrets, head.signed.commit.keyBox, ref.locator)
    if (!objectKey) return 'damaged'
    opener = new ObjectOpener(objectKey, head.signed.commit.manifestBox, ref.cid)
  } catch (err) {
    if (signal.aborted) throw err
    if (errorCode(err) === 'ERR_NOT_FOUND') return undefined
    ctx.logger.warn(
      { cid: ref.cid, namespace: namespace === 'self' ? 'self' : 'held', err: String(err) },
      'local copy is damaged: fetching a good replica to replace it',
    )
    return 'damaged'
  }
  const source: ChunkSource = {
    id: 'local',
    open: (i, c) => opener.open(i, c),
    read: (first, count, sig) => readChunks(ctx.store, namespace, key, head, first, first + count - 1, sig),
  }
  return { opener, sources: [source] }
}

/**
 * Asks every candidate holder for the replica's commit at once and resolves
 * with the first that opens (owner's signature, this object's manifest);
 * holders whose commit is the same upload join as sources when they answer.
 */
function openRemote(
  ctx: ServerContext,
  ref: ObjectRef,
  signal: AbortSignal,
  skipped: SkippedPeer[],
  tuning: GetTuning,
  addLater: (s: ChunkSource) => void,
): Promise<Opened & { signed: SignedCommit; lookups: Promise<void> }> {
  const holders = ref.shared ? [] : (ctx.catalogue.getObject(ref.cid)?.holders ?? [])
  // The recorded holders first; the other peers only if none of them answers with the object, so
  // that a get does not dial half the network when its holders are known.
  const waves = lookupWaves(ref.locator, holders, livePeers(ctx), connectedPeers(ctx))
  let settle: () => void = () => {}
  const lookups = new Promise<void>((resolve) => {
    settle = resolve
  })
  return new Promise((resolve, reject) => {
    let chosen: { digest: string; opener: ObjectOpener } | undefined
    let pending = 0
    const source = (peer: Peer, signed: SignedCommit, opener: ObjectOpener): ChunkSource => ({
      id: peer.nodeId,
      open: (i, c) => opener.open(i, c),
      read: (first, count, sig) =>
        received(ctx, peer.nodeId, fetchChunks(peer, signed, first, count, tuning.chunkStallMs, sig, false)),
    })
    const launch = (candidates: string[]): void => {
      pending = candidates.length
      for (const nodeId of candidates) {
        const attempt = async () => {
          const peer = await ctx.members.peer(nodeId)
          if (!peer) throw Object.assign(new Error('not reachable'), { code: 'ERR_NOT_CONNECTED' })
          const signed = await fetchCommit(ctx, peer, ref.ownerId, ref.locator, signal)
          if (chosen) {
            if (signed.digest === chosen.digest) addLater(source(peer, signed, chosen.opener))
            return
          }
          const objectKey = ref.shared
            ? ref.objectKey
            : openObjectKey(ctx.secrets, signed.commit.keyBox, ref.locator)
          if (!objectKey) throw new NotFoundError(ref.cid)
          let opener: ObjectOpener
          try {
            opener = new ObjectOpener(objectKey, signed.commit.manifestBox, ref.cid)
          } catch (err) {
            // A capability opens one upload: this holder has another (deleted and put again), not damage.
            if (!ref.shared) throw err
            throw new NotFoundError(
              ref.cid,
              `the capability does not open the upload of ${ref.cid} that this holder has`,
            )
          }
          if (chosen) return
          chosen = { digest: signed.digest, opener }
          resolve({
            opener,
            sources: [source(peer, signed, opener)],
            signed,
            objectKey,
            first: nodeId,
            lookups,
          })
        }
        attempt()
          .catch((err: unknown) => {
            if (signal.aborted) return
            const code = errorCode(err) ?? 'ERR_UNKNOWN'
            const message = err instanceof Error ? err.message : String(err)
            skipped.push({ nodeId, code, message })
            if (code !== 'ERR_NOT_FOUND') ctx.onBadPeer({ nodeId, cid: ref.cid, code, message })
          })
          .finally(() => {
            pending--
            if (pending > 0) return
            const next = waves.shift()
            if (!chosen && next && next.length > 0 && !signal.aborted) {
              launch(next)
              return
            }
            settle()
            if (!chosen) {
              reject(
                signal.aborted
                  ? signal.reason
                  : unreachableOrMissing(ref.cid, skipped, false, foundDamaged(ctx, ref)),
              )
            }
          })
      }
    }
    const wave = waves.shift() ?? []
    if (wave.length === 0) {
      settle()
      reject(new NotFoundError(ref.cid, undefined, skipped))
    } else launch(wave)
  })
}

/** Reports each chunk fetched from a holder as a transfer (for metrics). */
async function* received(
  ctx: ServerContext,
  nodeId: string,
  chunks: AsyncIterable<{ index: number; ciphertext: Buffer }>,
): AsyncGenerator<{ index: number; ciphertext: Buffer }> {
  for await (const c of chunks) {
    ctx.onTransfer({ direction: 'in', kind: 'fetch', nodeId, bytes: c.ciphertext.byteLength })
    yield c
  }
}

/** The inclusive byte range a get asked for, checked before anything is fetched. */
function byteRange(opts: GetOptions): { start?: number; end?: number } {
  const { start, end } = opts
  const ok = (n: number | undefined) => n === undefined || (Number.isSafeInteger(n) && n >= 0)
  if (!ok(start) || !ok(end) || (start !== undefined && end !== undefined && start > end)) {
    throw new InvalidRangeError(start, end)
  }
  return { ...(start !== undefined && { start }), ...(end !== undefined && { end }) }
}
