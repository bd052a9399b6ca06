import { type TLSSocket, connect as tlsConnect } from 'node:tls'
import { type NodeIdentity, parseAddress } from '@cas/p2p'

/**
 * Opens TLS 1.3 to a node's P2P address presenting `identity`'s node certificate, as a cas/1 peer
 * dials. The node's certificate is self-signed and pinned by its nodeId (which the cas/1 handshake
 * proves), so it is not checked against a CA or a host name here. The socket is returned at once:
 * the caller awaits `secureConnect` (or `close`) itself. `from`: the local address to dial from (any
 * 127.x.y.z on loopback), so that a test can pose as many hosts.
 */
export function dialAsNode(addr: string, identity: NodeIdentity, from?: string): TLSSocket {
  const { host, port } = parseAddress(addr)
  return tlsConnect({
    host,
    port,
    ...(from !== undefined && { localAddress: from }),
    cert: identity.certPem,
    key: identity.keyPem,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  })
}
