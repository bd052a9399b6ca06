import { ShareResultSchema } from '@cas/api'
import type { CommandContext } from '../context.js'
import { objectPath } from './arguments.js'

/** `cas share <ref>` (a cid, a name or the start of a cid): prints a capability that lets any node fetch and decrypt this one object. */
export async function share(ctx: CommandContext, ref: string): Promise<void> {
  const client = await ctx.client()
  const result = await client.json(ShareResultSchema, 'POST', `${objectPath(ref)}/share`)
  ctx.out.result(result, () => result.capability)
  ctx.out.info('anyone with this string can read this object (and nothing else): `cas get <capability>`')
}
