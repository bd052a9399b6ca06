import type { CommandContext } from '../context.js'
import { formatBytes, formatTable } from '../output.js'
import { ObjectListSchema } from '../schemas.js'

/** `cas ls`: the objects this node knows, with their replica health. */
export async function ls(ctx: CommandContext): Promise<void> {
  const client = await ctx.client()
  const objects = await client.json(ObjectListSchema, 'GET', '/v1/objects')
  const { out } = ctx
  out.result(objects, () => {
    if (objects.length === 0) return ''
    const rows = objects.map((o) => {
      const live = o.holders.filter((h) => h.live).length
      const health = `${live}/${o.wanted}`
      return [
        o.cid,
        formatBytes(o.size),
        live >= o.wanted ? out.green(health) : out.red(health),
        o.local ? 'yes' : 'no',
        o.names.join(', '),
      ]
    })
    return formatTable(['CID', 'SIZE', 'REPLICAS', 'LOCAL', 'NAMES'], rows)
  })
  if (objects.length === 0) out.info('no objects yet; store one with `cas put <file>`')
}
