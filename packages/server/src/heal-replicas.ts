import { locatorOf } from '@cas/crypto'
import type { ServerContext } from './context.js'
import { DEFAULT_REPLICATE_CONCURRENCY } from './options.js'
import { replicate } from './replicate.js'

/**
 * Sends a fresh replica, from the verified local copy, to holders whose copy
 * failed during a fetch (tampered, truncated, missing). A holder cannot check
 * its ciphertext itself (it has no keys), so the owner heals it when it
 * notices. The store request replaces the bad file atomically on the holder.
 */
export async function healReplicas(
  ctx: ServerContext,
  cid: string,
  holders: string[],
  signal: AbortSignal,
): Promise<string[]> {
  const { size } = await ctx.store.stat(cid, { namespace: 'self' })
  const { acked, failed } = await replicate(ctx, {
    cid,
    size,
    locator: locatorOf(ctx.secrets, cid),
    candidates: holders,
    wanted: holders.length,
    concurrency: DEFAULT_REPLICATE_CONCURRENCY,
    signal,
  })
  ctx.logger.info({ cid, healed: acked, failed }, 'sent fresh replicas to holders that served a bad one')
  return acked
}
