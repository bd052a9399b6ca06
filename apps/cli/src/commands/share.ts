import type { CommandContext } from '../context.js'
import { ShareResultSchema } from '../schemas.js'
import { parseCid } from './arguments.js'

/** `cas share <cid>`: prints a capability that lets any node fetch and decrypt this one object. */
export async function share(ctx: CommandContext, cidArg: string): Promise<void> {
  const cid = parseCid(cidArg)
  const client = await ctx.client()
  const result = await client.json(ShareResultSchema, 'POST', `/v1/objects/${cid}/share`)
  ctx.out.result(result, () => result.capability)
  ctx.out.info('anyone with this string can read this object (and nothing else): `cas get <capability>`')
}
