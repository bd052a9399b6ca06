import { DeleteResultSchema } from '@cas/api'
import type { CommandContext } from '../context.js'
import { objectPath } from './arguments.js'

/** `cas rm <ref>` (a cid, a name or the start of a cid): deletes the object here and on every peer (`--local`: only the local copy). */
export async function rm(ctx: CommandContext, ref: string, opts: { local?: boolean }): Promise<void> {
  const client = await ctx.client()
  const query = opts.local ? '?local=1' : ''
  const result = await client.json(DeleteResultSchema, 'DELETE', `${objectPath(ref)}${query}`)
  const { cid } = result
  ctx.out.result(result, () => cid)
  ctx.out.info(
    opts.local
      ? `removed the local copy of ${cid}${result.local ? '' : ' (there was none)'}; replicas on peers are kept`
      : `removed ${cid}${result.local ? '' : ' (no local copy)'}; delete sent to ${result.peers} peer(s)`,
  )
}
