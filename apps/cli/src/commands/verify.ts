import { VerifyResultSchema } from '@cas/api'
import type { CommandContext } from '../context.js'
import { IntegrityError } from '../errors.js'

/** `cas verify`: the node re-hashes every local object; damaged ones make the command fail. */
export async function verify(ctx: CommandContext): Promise<void> {
  const client = await ctx.client()
  const result = await client.json(VerifyResultSchema, 'POST', '/v1/verify')
  const { out } = ctx
  out.result(result, () => result.damaged.join('\n'))
  if (result.damaged.length > 0) {
    throw new IntegrityError(
      `${result.damaged.length} of ${result.checked} local objects are damaged (listed on stdout)`,
    )
  }
  out.info(`checked ${result.checked} local objects: all intact`)
}
