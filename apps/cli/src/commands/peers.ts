import { PeerInfoSchema, PeerListSchema } from '@cas/api'
import type { CommandContext } from '../context.js'
import { formatTable } from '../output.js'
import { parseAddress } from './arguments.js'

/** `cas peers`: the peers the node knows. */
export async function listPeers(ctx: CommandContext): Promise<void> {
  const client = await ctx.client()
  const peers = await client.json(PeerListSchema, 'GET', '/v1/peers')
  const { out } = ctx
  out.result(peers, () =>
    peers.length === 0
      ? ''
      : formatTable(
          ['NODE', 'ADDRESS', 'STATE'],
          peers.map((p) => [
            p.nodeId,
            p.addr ?? '-',
            p.connected ? out.green('connected') : out.dim('known'),
          ]),
        ),
  )
  if (peers.length === 0) out.info('no peers; add one with `cas peers add <host:port>`')
}

/** `cas peers add <host:port>`: dials a peer now (and keeps it in the peer book). */
export async function addPeer(ctx: CommandContext, addrArg: string): Promise<void> {
  const addr = parseAddress(addrArg)
  const client = await ctx.client()
  const peer = await client.json(PeerInfoSchema, 'POST', '/v1/peers', { body: JSON.stringify({ addr }) })
  ctx.out.result(peer, () => peer.nodeId)
  ctx.out.info(`connected to ${peer.nodeId} at ${peer.addr ?? addr}`)
}
