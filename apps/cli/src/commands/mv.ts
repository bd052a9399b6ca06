import { RenameResultSchema } from '@cas/api'
import type { CommandContext } from '../context.js'
import { objectPath } from './arguments.js'

/** `cas mv <ref> <name>`: renames an object; nothing is stored or sent again but a catalogue change. */
export async function mv(ctx: CommandContext, ref: string, name: string): Promise<void> {
  const client = await ctx.client()
  const result = await client.json(RenameResultSchema, 'POST', `${objectPath(ref)}/rename`, {
    body: JSON.stringify({ name }),
  })
  ctx.out.result(result, () => `${result.cid}  ${result.names.join(', ')}`)
}
