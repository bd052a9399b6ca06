import type { ResolvedConnectionOptions } from './connection-options.js'
import { type ConnectionOptions, resolveConnectionOptions, stripUndefined } from './connection-options.js'
import * as defaults from './options.js'

export interface TcpTransportOptions extends ConnectionOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string
  /** Port to listen on; default 0 (any free port). */
  port?: number
  /** The address sent in hello for others to dial; default the bound host:port. */
  announceAddr?: string
  /** TLS 1.3 with mutual certificate authentication; default false. */
  tls?: boolean
  /** Default DEFAULT_MAX_INBOUND_CONNECTIONS (256). */
  maxInboundConnections?: number
  /** Default DEFAULT_MAX_INBOUND_PER_ADDRESS (16). */
  maxInboundPerAddress?: number
  /** Default DEFAULT_MAX_INBOUND_PER_GROUP (32): per IPv4 /24 or IPv6 /48 (see addressGroup). */
  maxInboundPerGroup?: number
  /** Default DEFAULT_MAX_PENDING_HANDSHAKES (32). */
  maxPendingHandshakes?: number
}

type TcpOnly = Omit<TcpTransportOptions, keyof ConnectionOptions>

export type ResolvedOptions = ResolvedConnectionOptions &
  Required<Omit<TcpOnly, 'announceAddr'>> &
  Pick<TcpOnly, 'announceAddr'>

/** The options with every default filled in (see options.ts for the values). */
export function resolveOptions(options: TcpTransportOptions): ResolvedOptions {
  return {
    host: '127.0.0.1',
    port: 0,
    tls: false,
    maxInboundConnections: defaults.DEFAULT_MAX_INBOUND_CONNECTIONS,
    maxInboundPerAddress: defaults.DEFAULT_MAX_INBOUND_PER_ADDRESS,
    maxInboundPerGroup: defaults.DEFAULT_MAX_INBOUND_PER_GROUP,
    maxPendingHandshakes: defaults.DEFAULT_MAX_PENDING_HANDSHAKES,
    ...stripUndefined(options),
    ...resolveConnectionOptions(options),
  }
}
