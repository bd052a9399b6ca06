export { formatAddress, parseAddress } from './address.js'
export { addressGroup, addressGroupOf, isLoopback } from './address-group.js'
export { backoffDelay } from './backoff.js'
export { casHandshake, TLS_EXPORTER_LABEL } from './cas-handshake.js'
export { type Codec, msgpackCodec } from './codec.js'
export type { ConnectionOptions } from './connection-options.js'
export * from './errors.js'
export { encodeFrame, encodeFrameParts, FRAME_HEADER_SIZE, FrameDecoder } from './framing.js'
export {
  type HandshakeContext,
  type HandshakeFunc,
  type HandshakeResult,
  nopHandshake,
  type OwnerSigner,
  receiveHello,
} from './handshake.js'
export { jsonCodec } from './json-codec.js'
export { type Logger, noopLogger } from './logger.js'
export { MemoryNetwork } from './memory-network.js'
export { MemoryTransport, type MemoryTransportOptions } from './memory-transport.js'
export {
  type Hello,
  type Message,
  type MessageOf,
  messageSchema,
  type OutgoingHello,
  type OutgoingMessage,
  PROTOCOL,
  parseMessage,
} from './messages.js'
export { checkMsgpack, MAX_NESTING_DEPTH } from './msgpack-guard.js'
export {
  certificateSpki,
  createNodeIdentity,
  loadOrCreateNodeIdentity,
  NODE_CERT_FILE,
  NODE_CERT_VALIDITY_DAYS,
  NODE_KEY_FILE,
  type NodeIdentity,
  nodeIdOf,
} from './node-identity.js'
export * from './options.js'
export { MAX_BODY_DEPTH } from './plain-data.js'
export type { Source } from './source.js'
export { TcpTransport } from './tcp-transport.js'
export type { TcpTransportOptions } from './tcp-transport-options.js'
export type {
  DialOptions,
  IncomingRequest,
  Peer,
  RequestHandler,
  RequestOptions,
  Response,
  Transport,
} from './transport.js'
