import type { ObjectRecord, ReplicaOutcome } from './catalogue.js'
import type { CatalogueOp } from './catalogue-log.js'
import type { ServerContext } from './context.js'
import { errorCode, NotFoundError } from './errors.js'
import { RECORD_CHUNK, RECORD_COMMIT, recordHead } from './object/record-stream.js'
import { readChunks, readReplicaHead } from './object/replica-file.js'
import { fetchChunks, fetchCommit } from './protocol/fetch.js'
import { sendReplica } from './protocol/store.js'
import type { Refusal } from './types.js'

export interface ReplicateJob {
  cid: string
  /** Node ids in the order to try them (rendezvous rank). */
  candidates: string[]
  /** Acknowledgements wanted. */
  wanted: number
  concurrency: number
  signal?: AbortSignal | undefined
  /** The replica as store records, read afresh for each target: the local copy, or a holder's relayed. */
  records: () => AsyncIterable<Uint8Array>
}

export interface ReplicateResult {
  acked: string[]
  /** Candidates that refused or failed, and why (callers record and report them). */
  failed: { nodeId: string; code: string; message: string }[]
}

/** A refused or failed replica transfer as a record: the peer, the error's code and message. */
export function failureOf(nodeId: string, reason: unknown): ReplicateResult['failed'][number] {
  const message = reason instanceof Error ? reason.message : String(reason)
  return { nodeId, code: errorCode(reason) ?? 'ERR_UNKNOWN', message: message.slice(0, 300) }
}

/**
 * Records what a transfer of `cid`'s replicas came to (Catalogue.recordReplicas: one durable write)
 * and logs the refusals not already on record, so that a peer that keeps refusing (a full quota) is
 * reported once, not at every repair pass.
 */
export async function recordReplicas(
  ctx: ServerContext,
  cid: string,
  outcome: ReplicaOutcome,
): Promise<void> {
  logRefusals(ctx, cid, await ctx.catalogue.recordReplicas(cid, outcome))
}

/** Lists an object with its log `ops` and, when given, what its replicas came to: one durable write. */
export async function recordObject(
  ctx: ServerContext,
  record: ObjectRecord,
  ops: CatalogueOp[],
  replicas?: ReplicaOutcome,
): Promise<void> {
  logRefusals(ctx, record.cid, await ctx.catalogue.putObject(record, ops, replicas))
}

function logRefusals(ctx: ServerContext, cid: string, refusals: Refusal[]): void {
  for (const r of refusals) {
    ctx.logger.warn({ nodeId: r.nodeId, cid, code: r.code, err: r.message }, 'replica refused or failed')
  }
}

/**
 * Sends an existing replica (bytes and commit as they are: no re-encryption)
 * to candidates in rank order until `wanted` acknowledge; a refusal (quota,
 * error, gone) moves on to the next.
 */
export async function replicate(ctx: ServerContext, job: ReplicateJob): Promise<ReplicateResult> {
  const acked: string[] = []
  const failed: ReplicateResult['failed'] = []
  const queue = [...job.candidates]
  while (acked.length < job.wanted && queue.length > 0) {
    job.signal?.throwIfAborted()
    const batch = queue.splice(0, Math.min(job.wanted - acked.length, job.concurrency))
    const results = await Promise.allSettled(
      batch.map(async (nodeId) => {
        const peer = await ctx.members.peer(nodeId)
        if (!peer) throw Object.assign(new Error('not reachable'), { code: 'ERR_NOT_CONNECTED' })
        await sendReplica(ctx, peer, job.records(), job.signal)
      }),
    )
    results.forEach((r, i) => {
      const nodeId = batch[i] as string
      if (r.status === 'fulfilled') {
        acked.push(nodeId)
      } else {
        failed.push(failureOf(nodeId, r.reason))
      }
    })
  }
  job.signal?.throwIfAborted()
  return { acked, failed }
}

/** The owner's local replica of `cid` as store records, read chunk by chunk. */
export async function* localRecords(
  ctx: ServerContext,
  cid: string,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const head = await readReplicaHead(ctx.store, 'self', cid)
  const last = head.signed.commit.chunks.length - 1
  for await (const { ciphertext } of readChunks(ctx.store, 'self', cid, head, 0, last, signal)) {
    yield recordHead(RECORD_CHUNK, ciphertext.byteLength)
    yield ciphertext
  }
  yield recordHead(RECORD_COMMIT, head.signed.bytes.byteLength)
  yield head.signed.bytes
}

/** A holder's replica relayed as store records, each chunk checked against the commit on the way. */
export async function* relayedRecords(
  ctx: ServerContext,
  nodeId: string,
  locator: string,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const peer = await ctx.members.peer(nodeId)
  if (!peer) throw new NotFoundError(locator, `holder ${nodeId.slice(0, 12)} is not reachable`)
  const signed = await fetchCommit(ctx, peer, ctx.ownerId, locator, signal)
  const count = signed.commit.chunks.length
  const batch = 16
  for (let first = 0; first < count; first += batch) {
    const n = Math.min(batch, count - first)
    for await (const { ciphertext } of fetchChunks(peer, signed, first, n, ctx.fetchTimeout, signal)) {
      yield recordHead(RECORD_CHUNK, ciphertext.byteLength)
      yield ciphertext
    }
  }
  yield recordHead(RECORD_COMMIT, signed.bytes.byteLength)
  yield signed.bytes
}
