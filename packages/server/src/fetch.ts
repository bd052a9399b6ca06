import { decryptIterable, MAX_CHUNK_SIZE, sealedSize } from '@cas/crypto'
import type { ServerContext } from './context.js'
import { errorCode, HoldersUnreachableError, NotFoundError, SizeMismatchError } from './errors.js'
import { fetchResponseSchema } from './messages.js'
import { counted, idleTimeout, limited, verifiedCid } from './stream-utils.js'
import type { SkippedPeer } from './types.js'

export interface FetchJob {
  cid: string
  ownerId: string
  locator: string
  fileKey: Uint8Array
  fileMacKey: Uint8Array
  /** Plaintext size when known (catalogue or capability): a peer must declare the matching sealed size. */
  size: number | undefined
  candidates: string[]
  signal?: AbortSignal | undefined
  onBytes?: ((n: number) => void) | undefined
}

export interface FetchResult {
  nodeId: string
  skipped: SkippedPeer[]
}

/** Smallest chunk size a sane writer uses; bounds how much a peer may declare for a known size. */
const MIN_SEALED_CHUNK = 4096

/**
 * With the plaintext size known, a replica's sealed size lies between that of
 * one chunk and that of 4 KiB chunks, whatever chunk size its writer chose;
 * outside it the peer is lying, and nothing is read.
 */
function checkDeclaredSize(declared: number, size: number | undefined): void {
  if (size === undefined) return
  const min = sealedSize(size, MAX_CHUNK_SIZE)
  const max = sealedSize(size, MIN_SEALED_CHUNK)
  if (declared < min || declared > max) {
    throw new SizeMismatchError(`peer declared ${declared} sealed bytes for ${size} plaintext bytes`)
  }
}

/**
 * Asks each candidate in turn for `<ownerId>/<locator>` and writes the
 * decrypted, tag-checked and SHA-256-checked plaintext atomically into the
 * local store under the cid. Any failure discards the partial write and moves
 * on to the next candidate.
 */
export async function fetchInto(ctx: ServerContext, job: FetchJob): Promise<FetchResult> {
  const skipped: SkippedPeer[] = []
  for (const nodeId of job.candidates) {
    job.signal?.throwIfAborted()
    const peer = ctx.transport.peer(nodeId)
    if (!peer) continue
    const abort = new AbortController()
    const signal = job.signal ? AbortSignal.any([abort.signal, job.signal]) : abort.signal
    try {
      const res = await peer.request(
        { op: 'fetch', ownerId: job.ownerId, locator: job.locator },
        { timeout: ctx.fetchTimeout, signal },
      )
      const { size: declared } = fetchResponseSchema.parse(res.body)
      checkDeclaredSize(declared, job.size)
      if (!res.data) throw new SizeMismatchError('peer answered without data')
      const sealed = limited(
        idleTimeout(res.data, ctx.fetchTimeout, nodeId, () => abort.abort()),
        declared,
        true,
      )
      const plain = counted(decryptIterable(sealed, { fileKey: job.fileKey, macKey: job.fileMacKey }), (n) =>
        job.onBytes?.(n),
      )
      await ctx.store.write(job.cid, verifiedCid(plain, job.cid), { namespace: 'self', signal })
      ctx.onTransfer({ direction: 'in', kind: 'fetch', nodeId, bytes: declared })
      return { nodeId, skipped }
    } catch (err) {
      abort.abort()
      if (job.signal?.aborted) throw err
      const code = errorCode(err) ?? 'ERR_UNKNOWN'
      const message = err instanceof Error ? err.message : String(err)
      skipped.push({ nodeId, code, message })
      // A peer without the object is normal; anything else is reported as misbehaviour.
      if (code !== 'ERR_NOT_FOUND') ctx.onBadPeer({ nodeId, cid: job.cid, code, message })
      ctx.logger.debug({ nodeId, cid: job.cid, code }, 'fetch candidate skipped')
    }
  }
  if (skipped.some((s) => UNANSWERED.has(s.code))) throw new HoldersUnreachableError(job.cid, skipped)
  throw new NotFoundError(job.cid, undefined, skipped)
}

/** Why a peer may have served nothing although it holds the replica: it did not answer, or went away. */
const UNANSWERED = new Set(['ERR_TIMEOUT', 'ERR_PEER_TIMEOUT', 'ERR_CONNECTION_CLOSED'])

/**
 * The tag-checked plaintext of a peer's replica, for relaying it to another
 * peer without a local copy. The request is made when iteration starts; a tag
 * failure or a silence ends the iteration with an error.
 */
export async function* remotePlaintext(
  ctx: ServerContext,
  nodeId: string,
  job: Pick<FetchJob, 'ownerId' | 'locator' | 'fileKey' | 'fileMacKey' | 'size' | 'signal'>,
): AsyncIterable<Uint8Array> {
  const peer = ctx.transport.peer(nodeId)
  if (!peer) throw new NotFoundError(job.locator, `holder ${nodeId.slice(0, 12)} is not connected`)
  const abort = new AbortController()
  const signal = job.signal ? AbortSignal.any([abort.signal, job.signal]) : abort.signal
  try {
    const res = await peer.request(
      { op: 'fetch', ownerId: job.ownerId, locator: job.locator },
      { timeout: ctx.fetchTimeout, signal },
    )
    const { size: declared } = fetchResponseSchema.parse(res.body)
    checkDeclaredSize(declared, job.size)
    if (!res.data) throw new SizeMismatchError('peer answered without data')
    const sealed = limited(
      idleTimeout(res.data, ctx.fetchTimeout, nodeId, () => abort.abort()),
      declared,
      true,
    )
    yield* decryptIterable(sealed, { fileKey: job.fileKey, macKey: job.fileMacKey })
  } finally {
    abort.abort()
  }
}
