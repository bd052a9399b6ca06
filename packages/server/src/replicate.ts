import type { Readable } from 'node:stream'
import { encryptIterable, fileKeys, sealedSize } from '@cas/crypto'
import type { ServerContext } from './context.js'
import { errorCode } from './errors.js'
import { FanOut } from './fan-out.js'
import { storeResponseSchema } from './messages.js'
import { REPLICA_CHUNK_SIZE } from './options.js'
import { signAction } from './signatures.js'
import { counted, verifiedCid } from './stream-utils.js'

export interface ReplicateJob {
  cid: string
  size: number
  locator: string
  /** Node ids in the order to try them (rendezvous rank). */
  candidates: string[]
  /** Acknowledgements wanted. */
  wanted: number
  concurrency: number
  signal?: AbortSignal | undefined
  onBytes?: ((n: number) => void) | undefined
  /** Where the plaintext comes from for each replica; default the local store's copy. */
  plaintext?: (() => AsyncIterable<Uint8Array>) | undefined
}

export interface ReplicateResult {
  acked: string[]
  failed: { nodeId: string; code: string }[]
}

/**
 * Sends the object to candidates in rank order until `wanted` acknowledge; a
 * refusal (quota, error, gone) moves on to the next. Each batch of targets
 * shares one read and one encryption of the object, streamed to all of them.
 */
export async function replicate(ctx: ServerContext, job: ReplicateJob): Promise<ReplicateResult> {
  const acked: string[] = []
  const failed: ReplicateResult['failed'] = []
  const queue = [...job.candidates]
  while (acked.length < job.wanted && queue.length > 0) {
    job.signal?.throwIfAborted()
    const batch = queue.splice(0, Math.min(job.wanted - acked.length, job.concurrency))
    const results = await sendBatch(ctx, job, batch)
    results.forEach((r, i) => {
      const nodeId = batch[i] as string
      if (r.status === 'fulfilled') {
        acked.push(nodeId)
      } else {
        const code = errorCode(r.reason) ?? 'ERR_UNKNOWN'
        failed.push({ nodeId, code })
        ctx.logger.warn({ nodeId, cid: job.cid, code, err: String(r.reason) }, 'replica refused or failed')
      }
    })
  }
  job.signal?.throwIfAborted()
  return { acked, failed }
}

async function sendBatch(
  ctx: ServerContext,
  job: ReplicateJob,
  batch: string[],
): Promise<PromiseSettledResult<void>[]> {
  const { fileKey, fileMacKey } = fileKeys(ctx.secrets, job.cid)
  const sealed = sealedSize(job.size, REPLICA_CHUNK_SIZE)
  const local = job.plaintext ? undefined : ctx.store.read(job.cid, { namespace: 'self' })
  // A copy that rotted since it was written (local, or relayed from a holder) must not be sealed with
  // valid tags and spread: the hash is checked as it streams, and a mismatch fails the stream before
  // its end, so holders discard what they received.
  const plain = verifiedCid(job.plaintext ? job.plaintext() : (local as Readable), job.cid)
  const sealOpts = { fileKey, macKey: fileMacKey, chunkSize: REPLICA_CHUNK_SIZE }
  // One encryption (one IV) for the whole batch: every holder gets the same ciphertext.
  const fan = new FanOut(encryptIterable(plain, sealOpts), batch.length)
  try {
    return await Promise.allSettled(
      batch.map(async (nodeId, i) => {
        const { data, detach } = fan.branch(i)
        try {
          const peer = ctx.transport.peer(nodeId)
          if (!peer) throw Object.assign(new Error('not connected'), { code: 'ERR_NOT_CONNECTED' })
          const issuedAt = Date.now()
          const fields = { ownerId: ctx.ownerId, locator: job.locator, issuedAt, size: sealed }
          const { ownerPub, sig } = signAction(ctx.ownerKey, 'store', fields)
          const body = { op: 'store', ...fields, ownerPub, sig }
          const counting = counted(data, (n) => job.onBytes?.(n))
          const res = await peer.request(
            body,
            job.signal ? { data: counting, signal: job.signal } : { data: counting },
          )
          storeResponseSchema.parse(res.body)
          ctx.onTransfer({ direction: 'out', kind: 'replica', nodeId, bytes: sealed })
        } finally {
          // A refusal can come before this branch read anything: the others must not wait for it.
          detach()
        }
      }),
    )
  } finally {
    // Nobody may have started reading at all: release the file.
    local?.destroy()
  }
}
