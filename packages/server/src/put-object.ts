import { locatorOf, sealedSize } from '@cas/crypto'
import type { ServerContext } from './context.js'
import type { Deleter } from './delete.js'
import { DEFAULT_REPLICATE_CONCURRENCY, REPLICA_CHUNK_SIZE } from './options.js'
import { rankNodes } from './rendezvous.js'
import { wantedReplicas } from './repair.js'
import { replicate } from './replicate.js'
import { counted, iterate } from './stream-utils.js'
import type { PutOptions, PutResult, Replication, Source } from './types.js'

/**
 * Ingests into the local store (plaintext, namespace `self`), records the
 * object, then replicates it to the best-ranked connected peers that do not
 * hold it yet, and resolves once they acknowledged.
 */
export async function putObject(
  ctx: ServerContext,
  deleter: Deleter,
  source: Source,
  opts: PutOptions & { signal: AbortSignal },
  replication: Replication,
): Promise<PutResult> {
  let ingested = 0
  const ingestTotal = source instanceof Uint8Array ? source.byteLength : undefined
  const ingest = counted(iterate(source), (n) => {
    ingested += n
    opts.onProgress?.({ phase: 'ingest', done: ingested, total: ingestTotal })
  })
  const { key: cid, size } = await ctx.store.put(ingest, { namespace: 'self', signal: opts.signal })
  // The catalogue lists the object before its holders are known: keep repair off it until this put is done.
  ctx.replicating.set(cid, (ctx.replicating.get(cid) ?? 0) + 1)
  try {
    return await recordAndReplicate(ctx, deleter, cid, size, opts, replication)
  } finally {
    const left = (ctx.replicating.get(cid) ?? 1) - 1
    if (left > 0) ctx.replicating.set(cid, left)
    else ctx.replicating.delete(cid)
  }
}

async function recordAndReplicate(
  ctx: ServerContext,
  deleter: Deleter,
  cid: string,
  size: number,
  opts: PutOptions & { signal: AbortSignal },
  replication: Replication,
): Promise<PutResult> {
  await ctx.catalogue.putObject({
    cid,
    size,
    names: opts.name === undefined ? [] : [opts.name],
    created: Date.now(),
    replication,
    holders: [],
    shared: false,
  })
  const live = [...new Set(ctx.transport.peers().map((p) => p.nodeId))]
  const wanted = wantedReplicas(replication, live.length)
  // Putting the same content again: live holders already count.
  const already = (ctx.catalogue.getObject(cid)?.holders ?? []).filter((h) => live.includes(h))
  const locator = locatorOf(ctx.secrets, cid)
  // Put again after a delete: the holders that missed that delete must keep the new replica.
  await deleter.cancel(locator)
  const need = Math.max(0, wanted - already.length)
  const total = sealedSize(size, REPLICA_CHUNK_SIZE) * need
  let sent = 0
  const { acked } = await replicate(ctx, {
    cid,
    size,
    locator,
    candidates: rankNodes(locator, live).filter((n) => !already.includes(n)),
    wanted: need,
    concurrency: DEFAULT_REPLICATE_CONCURRENCY,
    signal: opts.signal,
    onBytes: (n) => {
      sent += n
      opts.onProgress?.({ phase: 'replicate', done: sent, total })
    },
  })
  await ctx.catalogue.addHolders(cid, acked)
  const replicas = [...already, ...acked]
  return { cid, size, replicas, wanted, underReplicated: replicas.length < wanted }
}
