import type { IncomingRequest, Peer } from '@cas/p2p'
import { type GossipRequest, gossipResponseSchema, type PeerRecord } from './messages.js'

/**
 * The `gossip` operation, both sides: two peers swap samples of signed peer
 * records. What a node keeps and how often it accepts gossip from one source
 * is the discovery's business; this module carries the records.
 */

/** What answers gossip: takes the sender's records, returns a sample of ours. */
export interface GossipReceiver {
  receive(from: Peer, records: PeerRecord[]): PeerRecord[]
}

export function handleGossip(receiver: GossipReceiver, req: IncomingRequest, body: GossipRequest) {
  return { records: receiver.receive(req.peer, body.records) }
}

/** Sends records to a peer and resolves with the records it answers with. */
export async function exchangeGossip(
  peer: Peer,
  records: PeerRecord[],
  timeout: number,
): Promise<PeerRecord[]> {
  const res = await peer.request({ op: 'gossip', records }, { timeout })
  return gossipResponseSchema.parse(res.body).records
}
