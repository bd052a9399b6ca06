/** Largest frame body accepted or sent, in bytes: a 1 MiB chunk plus room for its header. */
export const DEFAULT_MAX_FRAME_SIZE = 1024 * 1024 + 1024
/** Inbound connections (in handshake or established) beyond this are closed at once. */
export const DEFAULT_MAX_INBOUND_CONNECTIONS = 256
/** Inbound connections from one IP address at once (in handshake or established); more are closed at once. */
export const DEFAULT_MAX_INBOUND_PER_ADDRESS = 16
/** Inbound connections from one address group (an IPv4 /24, an IPv6 /48) at once; more are closed at once. */
export const DEFAULT_MAX_INBOUND_PER_GROUP = 32
/** Inbound connections in their handshake at once; a newcomer beyond it closes the oldest one. */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 32
/** Milliseconds from accepting (or opening) a socket to a finished handshake. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000
/** A connection that receives no frame for this many milliseconds is closed as dead. */
export const DEFAULT_IDLE_TIMEOUT = 60_000
/** Milliseconds between keep-alive pings; keep it well under the idle timeout. */
export const DEFAULT_PING_INTERVAL = 15_000
/** Requests in flight on one connection, each way; more are refused with ERR_TOO_MANY_REQUESTS. */
export const DEFAULT_MAX_INFLIGHT_REQUESTS = 256
/**
 * Bytes of streamed requests one connection may have buffered at once: each streamed request
 * reserves one STREAM_WINDOW of it while it runs (so 16 at once by default); more are refused
 * with ERR_BUSY.
 */
export const DEFAULT_MAX_INBOUND_BUFFER = 64 * 1024 * 1024
/** The same budget for the whole node, over all its connections (32 streamed requests at once by default). */
export const DEFAULT_MAX_INBOUND_BUFFER_TOTAL = 128 * 1024 * 1024
/**
 * Streamed answers one connection may have in progress at once; more are refused with ERR_BUSY.
 * Each holds up to a chunk of its source and of unsent frames until the requester reads.
 */
export const DEFAULT_MAX_RESPONSE_STREAMS = 16
/** The same cap for the whole node, over all its connections. */
export const DEFAULT_MAX_RESPONSE_STREAMS_TOTAL = 64
/** Milliseconds a request waits for its response, and for each next chunk of a stream. */
export const DEFAULT_REQUEST_TIMEOUT = 30_000
/** Extra attempts after a dial fails to connect (not after a failed handshake). */
export const DEFAULT_DIAL_RETRIES = 3
/** First retry delay in milliseconds; it doubles each attempt, with jitter. */
export const DEFAULT_DIAL_BACKOFF = 200
/** Longest retry delay in milliseconds. */
export const DEFAULT_DIAL_BACKOFF_MAX = 5_000
/** Largest data piece sent in one chunk frame. */
export const DEFAULT_CHUNK_SIZE = 256 * 1024
/**
 * Bytes a sender may have unacknowledged on one stream (protocol constant of
 * cas/1): the receiver grants more as its consumer reads, so a slow consumer
 * slows its sender and never buffers more than this per stream.
 */
export const STREAM_WINDOW = 4 * 1024 * 1024
/** Largest data piece a chunk frame may carry (the window must hold a few of them). */
export const MAX_CHUNK_SIZE = 1024 * 1024
