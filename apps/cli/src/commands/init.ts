import { homeOf } from '../connection.js'
import type { CommandContext } from '../context.js'

/** `cas init`: creates the data directory, owner key, node certificate and API token. */
export async function init(ctx: CommandContext): Promise<void> {
  const home = homeOf({ home: ctx.globals.home, env: ctx.env })
  // Loaded only here: the node package pulls in crypto and p2p, which other commands never need.
  const { prepareDataDir } = await import('@cas/node')
  const passphrase = ctx.env.CAS_PASSPHRASE
  const dir = await prepareDataDir(home, passphrase ? { passphrase } : {})
  const result = { home, ownerId: dir.ownerKey.ownerId, nodeId: dir.identity.nodeId, created: dir.created }
  ctx.out.result(result, () =>
    [`home    ${home}`, `owner   ${result.ownerId}`, `node    ${result.nodeId}`].join('\n'),
  )
  ctx.out.info(
    dir.created.ownerKey
      ? 'created a new owner key; back up owner.key — without it your replicas cannot be read'
      : 'the data directory was already set up; nothing was changed',
  )
}
