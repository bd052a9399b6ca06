/** A peer a finder reported: where to dial it, and the node id it claims when the finder carries one. */
export interface FoundPeer {
  addr: string
  nodeId: string | undefined
  /** The finder's name, for logs. */
  via: string
}

/**
 * A source of peers beside the bootstrap list and gossip: the LAN (mDNS), a DHT. What it reports is
 * no more trusted than gossip: it is dialled within the dial budget, and kept only when the
 * handshake (and the network key, when set) admits it.
 */
export interface PeerFinder {
  readonly name: string
  /** Starts announcing this node (listening at `self.listenAddr`) and reporting the peers found. */
  start(self: { nodeId: string; listenAddr: string }, found: (peer: FoundPeer) => void): Promise<void>
  stop(): Promise<void>
}
