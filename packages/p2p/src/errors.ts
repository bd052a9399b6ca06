/** Base of every error this package throws; callers branch on `code`. */
export class P2pError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

/** A frame declared a length over `maxFrameSize`; nothing of it was buffered. */
export class FrameTooLargeError extends P2pError {
  constructor(
    readonly size: number,
    readonly max: number,
  ) {
    super('ERR_FRAME_TOO_LARGE', `frame of ${size} bytes exceeds the limit of ${max}`)
  }
}

/** A frame body could not be decoded (malformed, truncated, too deep, or not plain data). */
export class DecodeError extends P2pError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_DECODE', message, options)
  }
}

/** A decoded frame is not one of the protocol's messages. */
export class SchemaError extends P2pError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_SCHEMA', message, options)
  }
}

/** The peer broke the protocol's rules (credit overrun, out-of-order chunk, unexpected frame). */
export class ProtocolError extends P2pError {
  constructor(message: string) {
    super('ERR_PROTOCOL', message)
  }
}

export type HandshakeFailure =
  | 'version'
  | 'node-id'
  | 'unexpected-node-id'
  | 'self'
  | 'signature'
  | 'network-key'
  | 'certificate'
  | 'timeout'
  | 'duplicate'
  | 'limit'
  | 'protocol'
  | 'rejected'

/** The handshake failed; `reason` says which check. */
export class HandshakeError extends P2pError {
  constructor(
    readonly reason: HandshakeFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super('ERR_HANDSHAKE', `handshake failed (${reason}): ${message}`, options)
  }
}

/** Something did not happen in time: a request, a stream chunk, a keep-alive. */
export class TimeoutError extends P2pError {
  constructor(message: string) {
    super('ERR_TIMEOUT', message)
  }
}

/** The remote handler failed; `remoteCode` is the code it sent. */
export class RemoteError extends P2pError {
  constructor(
    readonly remoteCode: string,
    message: string,
  ) {
    super('ERR_REMOTE', message)
  }
}

/** The connection closed before the operation finished; `cause` holds why, when known. */
export class ConnectionClosedError extends P2pError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_CONNECTION_CLOSED', message, options)
  }
}

/** Too many requests are in flight on one connection. */
export class TooManyRequestsError extends P2pError {
  constructor(readonly limit: number) {
    super('ERR_TOO_MANY_REQUESTS', `more than ${limit} requests in flight on one connection`)
  }
}

/**
 * A streamed request did not fit the receiver's budget of buffered inbound bytes (its connection's
 * or the node's), or its answer would pass the cap on response streams: refused before any of its
 * bytes were kept. Nothing happened; the sender may try again later or elsewhere.
 */
export class BusyError extends P2pError {
  constructor(message: string) {
    super('ERR_BUSY', message)
  }
}

/** The caller's AbortSignal fired. */
export class AbortedError extends P2pError {
  constructor(options?: ErrorOptions) {
    super('ERR_ABORTED', 'the operation was aborted', options)
  }
}

/** An address is not `host:port`, or the transport is not in a state to do this. */
export class InvalidArgumentError extends P2pError {
  constructor(message: string) {
    super('ERR_INVALID_ARGUMENT', message)
  }
}

/** A node identity file is missing pieces, unreadable, or has the wrong permissions. */
export class IdentityError extends P2pError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_IDENTITY', message, options)
  }
}

/** Gives any thrown value a `code` and a message, for error frames and logs. */
export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return { code: typeof code === 'string' ? code : 'ERR_INTERNAL', message: err.message }
  }
  return { code: 'ERR_INTERNAL', message: String(err) }
}

/** An absolute path after a start, a space, a quote, a bracket or '=': `open '/home/u/.cas/store/ab/cd'`. */
const ABSOLUTE_PATH = /(^|[\s'"(=[])\/[^\s'"(),;\]]+/g

/**
 * An error as a peer may see it: the code, and the message without absolute paths, which would tell a
 * peer where this node keeps its data and whose home folder it runs in.
 */
export function describeErrorForPeer(err: unknown): { code: string; message: string } {
  return forPeer(describeError(err))
}

/** A code and message as they may leave for a peer: bounded, and without absolute paths. */
export function forPeer({ code, message }: { code: string; message: string }): {
  code: string
  message: string
} {
  return { code: code.slice(0, 64), message: message.replace(ABSOLUTE_PATH, '$1<path>').slice(0, 1024) }
}
