/** Largest frame body accepted or sent, in bytes: a 1 MiB chunk plus room for its header. */
export const DEFAULT_MAX_FRAME_SIZE = 1024 * 1024 + 1024
/** Inbound connections (in handshake or established) beyond this are closed at once. */
export const DEFAULT_MAX_INBOUND_CONNECTIONS = 256
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
