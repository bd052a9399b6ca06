import { StatusSchema } from '@cas/api'
import type { CommandContext } from '../context.js'
import { formatBytes, formatDuration } from '../output.js'

/** `cas status`: the node's identity, addresses, peers, objects and repair state. */
export async function status(ctx: CommandContext): Promise<void> {
  const client = await ctx.client()
  const s = await client.json(StatusSchema, 'GET', '/v1/status')
  const { out } = ctx
  out.result(s, () =>
    [
      `node      ${s.nodeId}`,
      `owner     ${s.ownerId}`,
      `p2p       ${s.listenAddr}`,
      `api       ${client.connection.url}`,
      `version   ${s.version} (pid ${s.pid}, up ${formatDuration(s.uptimeSeconds)})`,
      `peers     ${s.peers.connected} connected, ${s.peers.known} known`,
      `objects   ${s.objects} (${formatBytes(s.bytes)})`,
      `replicas  ${s.repair.healthy} healthy, ${s.repair.underReplicated} under-replicated, ${s.repair.repairing} repairing`,
    ].join('\n'),
  )
}
