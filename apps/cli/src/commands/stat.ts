import { ObjectInfoSchema } from '@cas/api'
import type { CommandContext } from '../context.js'
import { formatAgo, formatBytes } from '../output.js'
import { objectPath } from './arguments.js'

/** `cas stat <ref>` (a cid, a name or the start of a cid): size, names, and the replica holders wanted versus live. */
export async function stat(ctx: CommandContext, ref: string): Promise<void> {
  const client = await ctx.client()
  const info = await client.json(ObjectInfoSchema, 'GET', `${objectPath(ref)}/stat`)
  const { out } = ctx
  out.result(info, () => {
    const live = info.holders.filter((h) => h.live).length
    const created = typeof info.created === 'number' ? new Date(info.created).toISOString() : info.created
    const lines = [
      `cid       ${info.cid}`,
      `size      ${formatBytes(info.size)} (${info.size} bytes)`,
      `names     ${info.names.join(', ') || '-'}`,
      `created   ${created}`,
      `local     ${info.local ? 'yes' : 'no'}`,
      `replicas  ${live} live of ${info.wanted} wanted${live < info.wanted ? ` ${out.red('(under-replicated)')}` : ''}`,
      ...info.holders.map(
        (h) =>
          `  ${h.nodeId}  ${h.live ? out.green('live') : out.red('unreachable')}` +
          (h.provenAt === undefined ? '' : `, proven good ${formatAgo(h.provenAt)}`) +
          (h.auditedAt === undefined ? '' : `, passed an audit ${formatAgo(h.auditedAt)}`) +
          (h.damagedAt === undefined ? '' : `, ${out.red(`served damaged bytes ${formatAgo(h.damagedAt)}`)}`),
      ),
      ...info.failedAudits.map(
        (f) =>
          `  ${f.nodeId}  ${out.red(`failed an audit ${formatAgo(f.at)} (${f.code}): no longer counted`)}`,
      ),
      ...info.refusals.map(
        (r) =>
          `  ${r.nodeId}  ${out.red(`refused ${new Date(r.at).toISOString()}: ${r.code}: ${r.message}`)}`,
      ),
    ]
    return lines.join('\n')
  })
}
