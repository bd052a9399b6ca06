import type { Source } from './source.js'

/** A connected, authenticated node. */
export interface Peer {
  readonly nodeId: string
  /** host:port of the socket. */
  readonly remoteAddress: string
  /** The dialable address the peer announced in its hello, if any. */
  readonly listenAddr: string | undefined
  /** The owner public key (SPKI DER) the peer proved in the handshake, if any. */
  readonly ownerPub: Uint8Array | undefined
  readonly direction: 'inbound' | 'outbound'
  /** When a request or its data last moved either way (ms since the epoch; pings aside). */
  readonly lastActive: number
  /** A request in flight either way, its data included. */
  readonly busy: boolean
  /** When this node last sent a request on it (ms since the epoch; 0: never). */
  readonly lastRequestAt: number
  /** Sends a request and resolves with the response head; its data (if any) follows as an async iterable. */
  request(body: unknown, opts?: RequestOptions): Promise<Response>
  /** Closes the connection; pending requests on it reject with ConnectionClosedError. */
  close(reason?: string): void
}

export interface RequestOptions {
  /** Longest wait in ms for the response, and for each next chunk of its data; default the transport's requestTimeout. */
  timeout?: number
  signal?: AbortSignal
  /** Bytes streamed to the handler after the request body. */
  data?: Source
}

export interface Response {
  body: unknown
  /** The response's byte stream, when the handler returned one. Consume it or break out of it. */
  data: AsyncIterable<Uint8Array> | undefined
}

export interface IncomingRequest {
  peer: Peer
  body: unknown
  data: AsyncIterable<Uint8Array> | undefined
  /** Aborts when the requester cancels, times out or disconnects. */
  signal: AbortSignal
}

/**
 * Answers a request. Throwing an error with a `code` sends `error { code, message }`;
 * the requester's promise (or data iterator) rejects with RemoteError carrying that code.
 */
export type RequestHandler = (req: IncomingRequest) => Promise<{ body: unknown; data?: Source }>

export interface DialOptions {
  /** Reject the connection unless the peer proves this nodeId. */
  expectNodeId?: string
  signal?: AbortSignal
  /** Extra connect attempts; default the transport's dialRetries. */
  retries?: number
}

export interface Transport {
  readonly nodeId: string
  /** After listen(): 'host:port'. */
  readonly listenAddr: string
  listen(): Promise<string>
  dial(addr: string, opts?: DialOptions): Promise<Peer>
  peers(): Peer[]
  peer(nodeId: string): Peer | undefined
  handle(handler: RequestHandler): void
  on(event: 'peer', fn: (peer: Peer) => void): this
  on(event: 'peer:close', fn: (peer: Peer, reason: Error | undefined) => void): this
  close(): Promise<void>
}
