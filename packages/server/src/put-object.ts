import { locatorOf, OBJECT_CHUNK_SIZE, type SealedChunk, sealObjectKey, ThreadedSealer } from '@cas/crypto'
import type { Peer } from '@cas/p2p'
import type { ObjectRecord, ReplicaOutcome } from './catalogue.js'
import type { ServerContext } from './context.js'
import type { Deleter } from './delete.js'
import { ObjectTooLargeError } from './errors.js'
import { MAX_CHUNKS } from './object/commit.js'
import { RECORD_CHUNK, RECORD_COMMIT, recordHead } from './object/record-stream.js'
import { replicaTrailer } from './object/replica-file.js'
import { DEFAULT_REPLICATE_CONCURRENCY } from './options.js'
import {
  addressGroups,
  distrusted,
  livePeers,
  putPlacementKey,
  rankedCandidates,
  wantedReplicas,
} from './placement.js'
import { MAX_SMALL_REPLICA_BYTES } from './protocol/messages.js'
import { HolderUpload } from './protocol/store.js'
import {
  failureOf,
  localRecords,
  type ReplicateResult,
  recordObject,
  recordReplicas,
  replicate,
} from './replicate.js'
import { iterate } from './stream-utils.js'
import type { PutOptions, PutResult, Replication, Source } from './types.js'

/** The largest object a commit can list: MAX_CHUNKS full chunks. */
const MAX_OBJECT_BYTES = MAX_CHUNKS * OBJECT_CHUNK_SIZE

export interface PutTuning {
  /** Bytes queued per holder before the put waits for it. */
  holderQueueBytes: number
  /** How long a put waits for a holder that takes nothing, in ms, before dropping it. */
  holderStallMs: number
}

/**
 * One pass: each source byte is read once; every 1 MiB chunk is hashed,
 * encrypted, hashed again, appended to the local replica and queued for each
 * holder, so the first replica bytes leave long before the last source byte
 * is read. At the end the manifest gives the cid, the cid the locator, and the
 * signed commit closes the local file and every holder's stream. A holder that
 * falls behind its queue or fails is dropped; the put succeeds with the others.
 */
export async function putObject(
  ctx: ServerContext,
  deleter: Deleter,
  source: Source,
  opts: PutOptions & { signal: AbortSignal; internal?: boolean },
  replication: Replication,
  tuning: PutTuning,
): Promise<PutResult> {
  const live = livePeers(ctx)
  const wanted = wantedReplicas(replication, live.length)
  const ingestTotal = source instanceof Uint8Array ? source.byteLength : undefined
  let ingested = 0
  let sent = 0
  const uploads: HolderUpload[] = []
  const groups = addressGroups(ctx.transport, (id) => ctx.members.addrOf(id))
  const ranked = rankedCandidates(putPlacementKey(), live, groups, [], distrusted(ctx))
  // The best-ranked members, connected to now where they are not: one that does not answer is left
  // out of this put, and the next candidates take its replica once the put is done.
  const peers = (await ctx.members.peers(ranked.slice(0, wanted))).filter((p): p is Peer => p !== undefined)
  // Each holder's stream starts with the first full chunk: an object of one small chunk goes whole
  // instead, with the other small puts that end in the same turn (SmallReplicaSender).
  let streaming = false
  const startUploads = (): void => {
    if (streaming) return
    streaming = true
    for (const peer of peers) {
      uploads.push(
        new HolderUpload(peer, ctx.ownerId, {
          queueBytes: tuning.holderQueueBytes,
          stallMs: tuning.holderStallMs,
          answerMs: ctx.fetchTimeout,
          signal: opts.signal,
          limiter: ctx.replicationLimiter,
          onBytes: (n) => {
            sent += n
            const total = ingestTotal === undefined ? undefined : ingestTotal * uploads.length
            opts.onProgress?.({ phase: 'replicate', done: sent, total })
          },
        }),
      )
    }
  }
  const local = await ctx.store.writer({ namespace: 'self' })
  const emit = async (chunk: SealedChunk): Promise<void> => {
    startUploads()
    const head = recordHead(RECORD_CHUNK, chunk.ciphertext.byteLength)
    await Promise.all([
      local.append(chunk.ciphertext),
      ...uploads.map(async (u) => {
        if (await u.push(head)) await u.push(chunk.ciphertext, chunk.ciphertext.byteLength)
      }),
    ])
  }
  let cid: string | undefined
  let marked = false
  try {
    // Each full chunk is emitted once sealed, in order; its plaintext is hashed on the seal thread meanwhile.
    const sealer = new ThreadedSealer(emit, { thread: ctx.sealThread })
    for await (const piece of iterate(source)) {
      opts.signal.throwIfAborted()
      ingested += piece.byteLength
      opts.onProgress?.({ phase: 'ingest', done: ingested, total: ingestTotal })
      await sealer.update(piece)
      if (ingested > MAX_OBJECT_BYTES) throw new ObjectTooLargeError(MAX_OBJECT_BYTES)
    }
    opts.signal.throwIfAborted()
    const { last, object } = await sealer.final()
    // One chunk, small enough to go whole: kept locally now, sent once its commit is signed.
    const whole =
      !streaming && last !== undefined && last.ciphertext.byteLength <= MAX_SMALL_REPLICA_BYTES
        ? last
        : undefined
    if (whole) {
      await local.append(whole.ciphertext)
    } else {
      startUploads()
      if (last) await emit(last)
    }
    cid = object.cid
    const locator = locatorOf(ctx.secrets, cid)
    const signed = await ctx.commitSigner.sign({
      ownerId: ctx.ownerId,
      locator,
      issuedAt: Date.now(),
      chunks: object.chunks,
      keyBox: sealObjectKey(ctx.secrets, object.objectKey, locator),
      manifestBox: object.manifestBox,
    })
    // Put again after a delete: the holders that missed that delete must keep the new replica.
    await deleter.cancel(locator)
    await Promise.all(
      uploads.map(async (u) => {
        if (await u.push(recordHead(RECORD_COMMIT, signed.bytes.byteLength))) await u.push(signed.bytes)
      }),
    )
    const holders = whole ? peers.map((p) => p.nodeId) : uploads.map((u) => u.nodeId)
    const stored = whole
      ? peers.map(async (peer) => {
          await ctx.replicationLimiter?.take(whole.ciphertext.byteLength, opts.signal)
          await ctx.smallReplicas.send(peer, whole.ciphertext, signed.bytes, opts.signal)
          sent += whole.ciphertext.byteLength
          opts.onProgress?.({ phase: 'replicate', done: sent, total: object.size * peers.length })
        })
      : []
    for (const p of stored) p.catch(() => {})
    await local.append(replicaTrailer(signed))
    await local.commit(cid)
    // Repair stays off the object until this put is done: a streamed put lists it before its holders are known.
    ctx.replicating.set(cid, (ctx.replicating.get(cid) ?? 0) + 1)
    marked = true
    const prev = ctx.catalogue.getObject(cid)
    const record: ObjectRecord = {
      cid,
      size: object.size,
      names: opts.name === undefined ? [] : [opts.name],
      created: Date.now(),
      replication,
      holders: [],
      shared: false,
      objectKey: object.objectKey,
      ...(opts.internal === true && { kind: 'catalogue' as const }),
    }
    /**
     * Lists the object (with what its replicas came to, when given) and logs this device's put of it,
     * in one durable write. The op is made here, not earlier, so that a put that fails before never
     * enters the log. A segment of the log is not itself in the log.
     */
    const list = async (replicas?: ReplicaOutcome): Promise<void> => {
      const op =
        opts.internal === true
          ? undefined
          : ctx.log.put({ cid: record.cid, size: object.size, replication, name: opts.name })
      await recordObject(ctx, record, op === undefined ? [] : [op], replicas)
      // The objects this put's name was taken from keep their other names, not this one.
      if (op) {
        const others = [...ctx.log.state.touchedBy(op)].filter((other) => other !== record.cid)
        await ctx.catalogue.putLogged(ctx.log.state.listed(others))
      }
    }
    // A streamed put lists the object now, as its holders may take minutes; a whole one, whose
    // holders answer within a turn or two, lists it once with them (one flush instead of two).
    if (!whole) await list()
    const settled = await Promise.allSettled(whole ? stored : uploads.map((u) => u.finish()))
    const acked: string[] = []
    const failed: ReplicateResult['failed'] = []
    settled.forEach((r, i) => {
      const nodeId = holders[i] as string
      if (r.status === 'fulfilled') {
        acked.push(nodeId)
        ctx.onTransfer({ direction: 'out', kind: 'replica', nodeId, bytes: signed.dataBytes })
      } else {
        failed.push(failureOf(nodeId, r.reason))
      }
    })
    // A holder that refused (quota) or fell behind: the replica goes to the next candidates, from the local copy.
    const spares = ranked.slice(wanted)
    if (acked.length < wanted && spares.length > 0) {
      const more = await replicate(ctx, {
        cid,
        candidates: spares,
        wanted: wanted - acked.length,
        concurrency: DEFAULT_REPLICATE_CONCURRENCY,
        signal: opts.signal,
        records: () => localRecords(ctx, cid as string, opts.signal),
      })
      acked.push(...more.acked)
      failed.push(...more.failed)
    }
    const outcome = { holders: acked, proven: acked, failed }
    if (whole) await list(outcome)
    else await recordReplicas(ctx, cid, outcome)
    // Putting the same content again: live holders of the earlier upload still hold a valid replica.
    const earlier = (prev?.holders ?? []).filter((h) => live.includes(h) && !acked.includes(h))
    const replicas = [...acked, ...earlier]
    const at = Date.now()
    const refused = failed.map((f) => ({ ...f, at }))
    return { cid, size: object.size, replicas, wanted, underReplicated: replicas.length < wanted, refused }
  } catch (err) {
    for (const u of uploads) u.drop(err)
    await local.discard()
    throw err
  } finally {
    if (cid !== undefined && marked) {
      const left = (ctx.replicating.get(cid) ?? 1) - 1
      if (left > 0) ctx.replicating.set(cid, left)
      else ctx.replicating.delete(cid)
    }
  }
}
