import type { IncomingRequest, Peer } from '@cas/p2p'
import type { ServerContext } from '../context.js'
import {
  BadRequestError,
  errorCode,
  NotFoundError,
  ReplicaMismatchError,
  SizeMismatchError,
} from '../errors.js'
import { LinkedAbort } from '../linked-abort.js'
import {
  chunkMatches,
  MAX_SIGNED_COMMIT_BYTES,
  openSignedCommit,
  type SignedCommit,
} from '../object/commit.js'
import { type ReplicaHead, readChunks, readReplicaHead, splitChunks } from '../object/replica-file.js'
import { idleTimeout, limited } from '../stream-utils.js'
import { type FetchRequest, fetchResponseSchema } from './messages.js'

/**
 * The `fetch` operation, both sides. Anyone may read a replica (it is
 * ciphertext): its signed commit, or a run of its chunks. The holder checks
 * each chunk against the commit before it sends it, so it never serves bytes
 * it cannot vouch for; a chunk that fails removes the replica (the owner's
 * repair sends a good one).
 */

export async function handleFetch(ctx: ServerContext, req: IncomingRequest, body: FetchRequest) {
  const head = await heldHead(ctx, body.ownerId, body.locator)
  if (body.part === 'commit') {
    const bytes = head.signed.bytes
    return { body: { size: bytes.byteLength }, data: bytes }
  }
  const count = head.signed.commit.chunks.length
  const first = body.first ?? 0
  const n = body.count ?? 1
  if (first + n > count)
    throw new BadRequestError(`chunks ${first}..${first + n - 1} of a replica of ${count}`)
  const size = (head.offsets[first + n] as number) - (head.offsets[first] as number)
  ctx.onTransfer({ direction: 'out', kind: 'fetch', nodeId: req.peer.nodeId, bytes: size })
  return {
    body: { size },
    data: servedChunks(ctx, body.ownerId, body.locator, head, first, first + n - 1, req.signal),
  }
}

async function* servedChunks(
  ctx: ServerContext,
  ownerId: string,
  locator: string,
  head: ReplicaHead,
  first: number,
  last: number,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const chunks = readChunks(ctx.store, ownerId, locator, head, first, last, signal)
  for await (const { index, ciphertext } of chunks) {
    if (!chunkMatches(head.signed.commit, index, ciphertext)) {
      // The file may have been replaced by a newer upload while it was read: drop it only if it still fails.
      if (await stillDamaged(ctx, ownerId, locator, head.signed.digest)) {
        await dropDamaged(ctx, ownerId, locator, `chunk ${index} does not match the commit`)
      }
      throw new ReplicaMismatchError(
        `this holder's replica ${locator.slice(0, 12)} is damaged (chunk ${index})`,
      )
    }
    yield ciphertext
  }
}

/** Why a held replica fails its commit (a chunk that does not match, a file cut short), or undefined. */
export async function replicaFailure(
  ctx: ServerContext,
  ownerId: string,
  locator: string,
  head: ReplicaHead,
): Promise<string | undefined> {
  const last = head.signed.commit.chunks.length - 1
  try {
    for await (const { index, ciphertext } of readChunks(ctx.store, ownerId, locator, head, 0, last)) {
      if (!chunkMatches(head.signed.commit, index, ciphertext))
        return `chunk ${index} does not match the commit`
    }
    return undefined
  } catch (err) {
    if (errorCode(err) !== 'ERR_CORRUPT_OBJECT') throw err
    return err instanceof Error ? err.message : String(err)
  }
}

/**
 * Whether the replica under `locator` is still the upload `digest` and still fails its check,
 * read afresh: a replica replaced by a newer store meanwhile is not damage.
 */
export async function stillDamaged(
  ctx: ServerContext,
  ownerId: string,
  locator: string,
  digest: string,
): Promise<boolean> {
  let head: ReplicaHead
  try {
    head = await readReplicaHead(ctx.store, ownerId, locator)
  } catch (err) {
    return errorCode(err) === 'ERR_CORRUPT_OBJECT'
  }
  if (head.signed.digest !== digest) return false
  try {
    return (await replicaFailure(ctx, ownerId, locator, head)) !== undefined
  } catch {
    // Unreadable for another reason (it vanished, an I/O error): not proof of damage.
    return false
  }
}

/** The head of a replica this node holds, or NotFoundError; a file that is no replica is dropped. */
export async function heldHead(ctx: ServerContext, ownerId: string, locator: string): Promise<ReplicaHead> {
  try {
    return await readReplicaHead(ctx.store, ownerId, locator)
  } catch (err) {
    if (errorCode(err) === 'ERR_CORRUPT_OBJECT') {
      await dropDamaged(ctx, ownerId, locator, err instanceof Error ? err.message : String(err))
    }
    if (errorCode(err) === 'ERR_CORRUPT_OBJECT' || errorCode(err) === 'ERR_NOT_FOUND') {
      throw new NotFoundError(`${ownerId}/${locator}`)
    }
    throw err
  }
}

/**
 * Removes a held replica whose bytes no longer verify, so that `has` answers
 * no and the owner's repair sends a good one. The held record goes too.
 */
export async function dropDamaged(
  ctx: ServerContext,
  ownerId: string,
  locator: string,
  why: string,
): Promise<void> {
  ctx.logger.warn(
    { ownerId, locator, why },
    'a held replica is damaged: removed, its owner will send it again',
  )
  await ctx.store.delete(locator, { namespace: ownerId }).catch(() => false)
  await ctx.onDamagedReplica?.(ownerId, locator)
}

/** Asks a peer for a replica's signed commit, checked against the owner's signature and the names asked for. */
export async function fetchCommit(
  ctx: ServerContext,
  peer: Peer,
  ownerId: string,
  locator: string,
  signal: AbortSignal,
): Promise<SignedCommit> {
  const link = new LinkedAbort([signal])
  const sig = link.signal
  try {
    const res = await peer.request(
      { op: 'fetch', v: 2, ownerId, locator, part: 'commit' },
      { timeout: ctx.fetchTimeout, signal: sig },
    )
    const { size } = fetchResponseSchema.parse(res.body)
    if (size > MAX_SIGNED_COMMIT_BYTES) throw new SizeMismatchError(`a commit of ${size} bytes`)
    if (!res.data) throw new SizeMismatchError('peer answered without data')
    const parts: Uint8Array[] = []
    for await (const piece of limited(
      idleTimeout(res.data, ctx.fetchTimeout, peer.nodeId, () => link.abort()),
      size,
      true,
    )) {
      parts.push(piece)
    }
    const signed = openSignedCommit(Buffer.concat(parts))
    if (signed.commit.ownerId !== ownerId || signed.commit.locator !== locator) {
      throw new ReplicaMismatchError('the peer served the commit of another replica')
    }
    return signed
  } finally {
    link.finish()
  }
}

/**
 * Asks a peer for chunks `first`..`first+count-1` of a replica and yields
 * each chunk's ciphertext, checked against the commit. A silence longer than
 * `stallMs` ends the iteration with PeerTimeoutError.
 */
export async function* fetchChunks(
  peer: Peer,
  signed: SignedCommit,
  first: number,
  count: number,
  stallMs: number,
  signal: AbortSignal,
  /** Check each chunk's ciphertext hash here; a reader that decrypts and checks the plaintext may skip it. */
  checkHashes = true,
): AsyncGenerator<{ index: number; ciphertext: Buffer }> {
  const { ownerId, locator, chunks } = signed.commit
  const link = new LinkedAbort([signal])
  const sig = link.signal
  try {
    const res = await peer.request(
      { op: 'fetch', v: 2, ownerId, locator, part: 'chunks', first, count },
      { timeout: stallMs, signal: sig },
    )
    const { size } = fetchResponseSchema.parse(res.body)
    let expected = 0
    for (let i = first; i < first + count; i++) expected += chunks[i]?.length ?? 0
    if (size !== expected) throw new SizeMismatchError(`peer declared ${size} bytes for ${expected}`)
    if (!res.data) throw new SizeMismatchError('peer answered without data')
    const data = limited(
      idleTimeout(res.data, stallMs, peer.nodeId, () => link.abort()),
      size,
      true,
    )
    for await (const chunk of splitChunks(data, chunks, first, first + count - 1)) {
      if (checkHashes && !chunkMatches(signed.commit, chunk.index, chunk.ciphertext)) {
        throw new ReplicaMismatchError(
          `peer ${peer.nodeId.slice(0, 12)} served a chunk ${chunk.index} that does not match its commit`,
        )
      }
      yield chunk
    }
  } finally {
    link.finish()
  }
}
