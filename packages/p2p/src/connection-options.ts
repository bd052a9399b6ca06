import { casHandshake } from './cas-handshake.js'
import { type Codec, msgpackCodec } from './codec.js'
import { InvalidArgumentError } from './errors.js'
import type { HandshakeFunc, OwnerSigner } from './handshake.js'
import { type Logger, noopLogger } from './logger.js'
import type { NodeIdentity } from './node-identity.js'
import * as defaults from './options.js'
import { MAX_CHUNK_SIZE, STREAM_WINDOW } from './options.js'

/** What every transport takes: who this node is, how it proves it, and the limits of its connections. */
export interface ConnectionOptions {
  identity: NodeIdentity
  /** The owner key this node proves in every handshake; default none. */
  owner?: OwnerSigner
  /** A shared secret: peers that cannot prove it are refused; default none. */
  networkKey?: Uint8Array
  /** Default the authenticated cas/1 handshake (`casHandshake`); `nopHandshake` for tests. */
  handshake?: HandshakeFunc
  /** Default msgpack; `jsonCodec` for debugging. Both ends must agree. */
  codec?: Codec
  /** Default a no-op logger. */
  logger?: Logger
  /** Default DEFAULT_MAX_FRAME_SIZE (1 MiB + 1 KiB). */
  maxFrameSize?: number
  /** Milliseconds; default DEFAULT_HANDSHAKE_TIMEOUT (10 s). */
  handshakeTimeout?: number
  /** Milliseconds; default DEFAULT_IDLE_TIMEOUT (60 s). */
  idleTimeout?: number
  /** Milliseconds; default DEFAULT_PING_INTERVAL (15 s). */
  pingInterval?: number
  /** Default DEFAULT_MAX_INFLIGHT_REQUESTS (256). */
  maxInflightRequests?: number
  /** Bytes per connection; default DEFAULT_MAX_INBOUND_BUFFER (64 MiB). */
  maxInboundBuffer?: number
  /** Bytes for the whole transport; default DEFAULT_MAX_INBOUND_BUFFER_TOTAL (128 MiB). */
  maxInboundBufferTotal?: number
  /** Default DEFAULT_MAX_RESPONSE_STREAMS (16). */
  maxResponseStreams?: number
  /** Default DEFAULT_MAX_RESPONSE_STREAMS_TOTAL (64). */
  maxResponseStreamsTotal?: number
  /**
   * Milliseconds; default DEFAULT_REQUEST_TIMEOUT (30 s). Also how long a write may wait for the peer
   * to read: a peer that takes nothing for that long is disconnected.
   */
  requestTimeout?: number
  /** Default DEFAULT_DIAL_RETRIES (3). */
  dialRetries?: number
  /** Milliseconds; default DEFAULT_DIAL_BACKOFF (200). */
  dialBackoff?: number
  /** Milliseconds; default DEFAULT_DIAL_BACKOFF_MAX (5 s). */
  dialBackoffMax?: number
  /** Bytes; default DEFAULT_CHUNK_SIZE (256 KiB), at most MAX_CHUNK_SIZE (1 MiB). */
  chunkSize?: number
}

export type ResolvedConnectionOptions = Required<Omit<ConnectionOptions, 'owner' | 'networkKey'>> &
  Pick<ConnectionOptions, 'owner' | 'networkKey'>

/** The options with every default filled in (see options.ts for the values); throws on bad limits. */
export function resolveConnectionOptions(options: ConnectionOptions): ResolvedConnectionOptions {
  const resolved: ResolvedConnectionOptions = {
    handshake: casHandshake,
    codec: msgpackCodec,
    logger: noopLogger,
    maxFrameSize: defaults.DEFAULT_MAX_FRAME_SIZE,
    handshakeTimeout: defaults.DEFAULT_HANDSHAKE_TIMEOUT,
    idleTimeout: defaults.DEFAULT_IDLE_TIMEOUT,
    pingInterval: defaults.DEFAULT_PING_INTERVAL,
    maxInflightRequests: defaults.DEFAULT_MAX_INFLIGHT_REQUESTS,
    maxInboundBuffer: defaults.DEFAULT_MAX_INBOUND_BUFFER,
    maxInboundBufferTotal: defaults.DEFAULT_MAX_INBOUND_BUFFER_TOTAL,
    maxResponseStreams: defaults.DEFAULT_MAX_RESPONSE_STREAMS,
    maxResponseStreamsTotal: defaults.DEFAULT_MAX_RESPONSE_STREAMS_TOTAL,
    requestTimeout: defaults.DEFAULT_REQUEST_TIMEOUT,
    dialRetries: defaults.DEFAULT_DIAL_RETRIES,
    dialBackoff: defaults.DEFAULT_DIAL_BACKOFF,
    dialBackoffMax: defaults.DEFAULT_DIAL_BACKOFF_MAX,
    chunkSize: defaults.DEFAULT_CHUNK_SIZE,
    ...stripUndefined(options),
  }
  const { chunkSize, maxFrameSize, maxInboundBuffer, maxInboundBufferTotal } = resolved
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE || chunkSize + 64 > maxFrameSize) {
    throw new InvalidArgumentError(`chunkSize must be 1..${MAX_CHUNK_SIZE} and fit a frame of maxFrameSize`)
  }
  if (maxInboundBuffer < STREAM_WINDOW || maxInboundBufferTotal < STREAM_WINDOW) {
    throw new InvalidArgumentError(
      `maxInboundBuffer and maxInboundBufferTotal must hold a stream window (${STREAM_WINDOW} bytes)`,
    )
  }
  return resolved
}

export function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}
