import type { ServerContext } from './context.js'
import { DEFAULT_REPLICATE_CONCURRENCY } from './options.js'
import { localRecords, replicate } from './replicate.js'

/**
 * Sends the local replica again, as it is, to holders whose copy failed
 * during a get (damaged, missing). The holder checks it against the commit
 * and replaces its file atomically.
 */
export async function healReplicas(
  ctx: ServerContext,
  cid: string,
  holders: string[],
  signal: AbortSignal,
): Promise<string[]> {
  const { acked, failed } = await replicate(ctx, {
    cid,
    candidates: holders,
    wanted: holders.length,
    concurrency: DEFAULT_REPLICATE_CONCURRENCY,
    signal,
    records: () => localRecords(ctx, cid, signal),
  })
  ctx.logger.info({ cid, healed: acked, failed }, 'sent fresh replicas to holders that served a bad one')
  return acked
}
