import type { Readable } from 'node:stream'
import type { Budget } from './budget.js'
import {
  AbortedError,
  BusyError,
  ConnectionClosedError,
  describeErrorForPeer,
  forPeer,
  P2pError,
  ProtocolError,
  RemoteError,
  TimeoutError,
  TooManyRequestsError,
} from './errors.js'
import { type FramedSocket, MAX_UNREAD_REPLY_BYTES } from './framed-socket.js'
import { InboundStream } from './inbound-stream.js'
import type { Logger } from './logger.js'
import type { Message, MessageOf } from './messages.js'
import { STREAM_WINDOW } from './options.js'
import { type OutboundSink, OutboundStream } from './outbound-stream.js'
import type { Source } from './source.js'
import type { IncomingRequest, Peer, RequestHandler, RequestOptions, Response } from './transport.js'

export interface PeerConnectionOptions {
  nodeId: string
  listenAddr: string | undefined
  ownerPub: Uint8Array | undefined
  direction: 'inbound' | 'outbound'
  /** The other end's address as the byte stream shows it. */
  remoteAddress: string
  handler(): RequestHandler | undefined
  maxInflightRequests: number
  /** Buffered inbound bytes of this connection's streamed requests (each reserves one window). */
  inboundBudget: Budget
  /** The same, shared by every connection of the node. */
  nodeInboundBudget: Budget
  /** Streamed answers in progress on this connection (one each). */
  responseStreams: Budget
  /** The same, shared by every connection of the node. */
  nodeResponseStreams: Budget
  requestTimeout: number
  pingInterval: number
  idleTimeout: number
  chunkSize: number
  logger: Logger
}

interface Outgoing {
  settled: boolean
  resolve(response: Response): void
  reject(err: Error): void
  upload: OutboundStream | undefined
  download: InboundStream | undefined
  timer: NodeJS.Timeout | undefined
  timeout: number
  /** Restarts the wait for the response: called as the upload makes progress. */
  touch(): void
  unlisten(): void
}

interface Incoming {
  controller: AbortController
  upload: InboundStream | undefined
  download: OutboundStream | undefined
  /** Bytes reserved from both inbound budgets for the upload, given back when the request ends. */
  reserved: number
}

/**
 * One authenticated connection: it multiplexes requests both ways by id
 * (the dialer's ids are odd, the listener's even, so the two never clash),
 * streams data under per-stream credit, and keeps the connection alive.
 */
export class PeerConnection implements Peer {
  readonly nodeId: string
  readonly listenAddr: string | undefined
  readonly ownerPub: Uint8Array | undefined
  readonly direction: 'inbound' | 'outbound'
  readonly remoteAddress: string
  readonly closed: Promise<Error | undefined>
  private nextId: number
  private pings = 0
  private lastTick = Date.now()
  private active = Date.now()
  private requested = 0
  private excused = false
  private warnedFlood = false
  private warnedBusy = false
  private readonly outgoing = new Map<number, Outgoing>()
  private readonly incoming = new Map<number, Incoming>()

  constructor(
    private readonly framed: FramedSocket,
    private readonly opts: PeerConnectionOptions,
  ) {
    this.nodeId = opts.nodeId
    this.listenAddr = opts.listenAddr
    this.ownerPub = opts.ownerPub
    this.direction = opts.direction
    this.remoteAddress = opts.remoteAddress
    this.nextId = opts.direction === 'outbound' ? 1 : 2
    const keepAlive = setInterval(() => this.keepAlive(), opts.pingInterval).unref()
    this.closed = framed.closed.then((reason) => {
      clearInterval(keepAlive)
      const err =
        reason instanceof ConnectionClosedError
          ? reason
          : new ConnectionClosedError(
              `the connection to ${this.nodeId.slice(0, 12)} closed: ${reason?.message}`,
              { cause: reason },
            )
      for (const id of [...this.outgoing.keys()]) this.failOutgoing(id, err, false)
      for (const id of [...this.incoming.keys()]) this.abortIncoming(id, err)
      return reason
    })
    framed.setHandler((m) => this.onMessage(m))
  }

  /** When a request or its data last moved either way (pings aside): what a pool evicts by. */
  get lastActive(): number {
    return this.active
  }

  /** When this node last sent a request on it (0: never). */
  get lastRequestAt(): number {
    return this.requested
  }

  /** A request in flight either way, its data included: a pool must not close this connection. */
  get busy(): boolean {
    return this.outgoing.size + this.incoming.size > 0
  }

  get isOpen(): boolean {
    return this.framed.isOpen
  }

  close(reason?: string): void {
    this.framed.close(new ConnectionClosedError(`closed by this node${reason ? `: ${reason}` : ''}`), true)
  }

  /** Closes at once because of `err` (a protocol failure, a duplicate). */
  abort(err: Error): void {
    this.framed.close(err)
  }

  request(body: unknown, opts: RequestOptions = {}): Promise<Response> {
    this.active = Date.now()
    this.requested = this.active
    if (!this.framed.isOpen) {
      return Promise.reject(
        new ConnectionClosedError('the connection is closed', { cause: this.framed.closeReason }),
      )
    }
    if (opts.signal?.aborted) return Promise.reject(new AbortedError({ cause: opts.signal.reason }))
    if (this.outgoing.size >= this.opts.maxInflightRequests) {
      return Promise.reject(new TooManyRequestsError(this.opts.maxInflightRequests))
    }
    const id = this.nextId
    this.nextId += 2
    const timeout = opts.timeout ?? this.opts.requestTimeout
    const signal = opts.signal
    return new Promise<Response>((resolve, reject) => {
      const onAbort = (): void => this.failOutgoing(id, new AbortedError({ cause: signal?.reason }), true)
      signal?.addEventListener('abort', onAbort, { once: true })
      const expire = (): void =>
        this.failOutgoing(id, new TimeoutError(`no response within ${timeout} ms`), true)
      const state: Outgoing = {
        settled: false,
        resolve,
        reject,
        upload: opts.data === undefined ? undefined : new OutboundStream(),
        download: undefined,
        timer: setTimeout(expire, timeout),
        timeout,
        // A long upload is progress, not silence: the peer grants credit only as it reads.
        touch: () => {
          if (state.settled) return
          clearTimeout(state.timer)
          state.timer = setTimeout(expire, timeout)
        },
        unlisten: () => signal?.removeEventListener('abort', onAbort),
      }
      this.outgoing.set(id, state)
      this.framed.send({ type: 'req', id, body, stream: state.upload !== undefined }).then(
        () => {
          if (state.upload && opts.data !== undefined) {
            state.upload
              .run(opts.data, this.opts.chunkSize, this.sink(id, state.touch))
              .catch((err: Error) => {
                this.failOutgoing(id, err, false)
              })
          }
        },
        (err: Error) => this.failOutgoing(id, err, false),
      )
    })
  }

  private sink(id: number, onChunk?: () => void): OutboundSink {
    return {
      chunk: (seq, data) => {
        onChunk?.()
        return this.framed.send({ type: 'chunk', id, seq, data })
      },
      end: () => this.framed.sendNow({ type: 'end', id }),
      error: (code, message) => this.framed.sendNow({ type: 'error', id, ...forPeer({ code, message }) }),
    }
  }

  private isMine(id: number): boolean {
    return id % 2 === (this.direction === 'outbound' ? 1 : 0)
  }

  private onMessage(m: Message): void {
    if (m.type !== 'ping' && m.type !== 'pong') this.active = Date.now()
    switch (m.type) {
      case 'req':
        this.onRequest(m)
        break
      case 'res':
        this.onResponse(m)
        break
      case 'chunk':
        this.streamOf(m.id)?.push(m.seq, m.data)
        break
      case 'end':
        this.streamOf(m.id)?.end()
        break
      case 'error': {
        const err = new RemoteError(m.code, m.message)
        if (m.id === 0) this.abort(err)
        else if (this.isMine(m.id)) this.failOutgoing(m.id, err, false)
        else this.abortIncoming(m.id, err)
        break
      }
      case 'cancel':
        if (this.isMine(m.id)) this.outgoing.get(m.id)?.upload?.cancel()
        else this.abortIncoming(m.id, new AbortedError())
        break
      case 'credit':
        if (this.isMine(m.id)) {
          const state = this.outgoing.get(m.id)
          state?.touch()
          state?.upload?.grant(m.n)
        } else this.incoming.get(m.id)?.download?.grant(m.n)
        break
      case 'ping':
        this.framed.sendNow({ type: 'pong', n: m.n }, true)
        break
      case 'pong':
        break
      default:
        throw new ProtocolError(`unexpected ${m.type} frame after the handshake`)
    }
  }

  private streamOf(id: number): InboundStream | undefined {
    return this.isMine(id) ? this.outgoing.get(id)?.download : this.incoming.get(id)?.upload
  }

  private onResponse(m: MessageOf<'res'>): void {
    if (!this.isMine(m.id)) throw new ProtocolError(`response to request ${m.id}, which we never sent`)
    const state = this.outgoing.get(m.id)
    if (!state) return // cancelled or timed out meanwhile
    if (state.settled) throw new ProtocolError(`second response to request ${m.id}`)
    clearTimeout(state.timer)
    state.settled = true
    if (m.stream) {
      const id = m.id
      state.download = new InboundStream({
        onCredit: (n) => this.framed.sendNow({ type: 'credit', id, n }),
        onCancel: () => this.framed.sendNow({ type: 'cancel', id }),
        onDone: () => this.completeOutgoing(id),
        timeout: state.timeout,
      })
      state.resolve({ body: m.body, data: state.download })
    } else {
      state.resolve({ body: m.body, data: undefined })
      this.completeOutgoing(m.id)
    }
  }

  private completeOutgoing(id: number): void {
    const state = this.outgoing.get(id)
    if (!state) return
    this.outgoing.delete(id)
    clearTimeout(state.timer)
    state.unlisten()
    state.upload?.cancel()
  }

  /** Ends a request of ours with `err`; `notify` tells the peer to stop working on it. */
  private failOutgoing(id: number, err: Error, notify: boolean): void {
    const state = this.outgoing.get(id)
    if (!state) return
    if (!state.settled) {
      state.settled = true
      state.reject(err)
    } else {
      state.download?.fail(err)
    }
    this.completeOutgoing(id)
    if (notify) this.framed.sendNow({ type: 'cancel', id })
  }

  private onRequest(m: MessageOf<'req'>): void {
    const id = m.id
    if (this.isMine(id)) throw new ProtocolError(`request ${id} uses our id space`)
    if (this.incoming.has(id)) throw new ProtocolError(`request ${id} is already in flight`)
    if (this.incoming.size >= this.opts.maxInflightRequests) {
      // Refusals are written without waiting: a peer that floods and never reads its replies
      // would grow our write buffer without bound (one small frame per request it sends).
      if (this.framed.socket.writableLength > MAX_UNREAD_REPLY_BYTES) {
        throw new ProtocolError('the peer floods requests and does not read the replies')
      }
      const err = new TooManyRequestsError(this.opts.maxInflightRequests)
      // A flood: say so once per connection, not once per refused request.
      if (!this.warnedFlood) {
        this.warnedFlood = true
        this.opts.logger.warn(
          { nodeId: this.nodeId, limit: this.opts.maxInflightRequests, code: err.code },
          'peer sent more requests than maxInflightRequests: refusing the excess',
        )
      }
      this.framed.sendNow({ type: 'error', id, code: err.code, message: err.message })
      return
    }
    const state: Incoming = {
      controller: new AbortController(),
      upload: undefined,
      download: undefined,
      reserved: 0,
    }
    if (m.stream) {
      // The sender may send a whole window before we answer: reserve it, or refuse the request
      // now (its chunks, already on the way, are dropped as belonging to no request).
      const refusal = this.take(
        this.opts.inboundBudget,
        this.opts.nodeInboundBudget,
        STREAM_WINDOW,
        'bytes of streamed requests buffered',
      )
      if (refusal) {
        this.refuseBusy(id, refusal)
        return
      }
      state.reserved = STREAM_WINDOW
      state.upload = new InboundStream({
        onCredit: (n) => this.framed.sendNow({ type: 'credit', id, n }),
        onCancel: () => this.framed.sendNow({ type: 'cancel', id }),
        onDone: () => {},
        timeout: this.opts.requestTimeout,
      })
    }
    this.incoming.set(id, state)
    void this.serve(id, state, m.body)
  }

  private async serve(id: number, state: Incoming, body: unknown): Promise<void> {
    const signal = state.controller.signal
    let data: Source | undefined
    try {
      const handler = this.opts.handler()
      if (!handler) throw new P2pError('ERR_NO_HANDLER', 'this node takes no requests')
      const req: IncomingRequest = { peer: this, body, data: state.upload, signal }
      const result = await handler(req)
      data = result.data
      if (signal.aborted) return
      if (data === undefined) {
        await this.framed.send({ type: 'res', id, body: result.body, stream: false })
        return
      }
      // Each answer streaming holds its source's buffers until the requester reads: a bounded number at once.
      const busy = this.take(this.opts.responseStreams, this.opts.nodeResponseStreams, 1, 'answers streaming')
      if (busy) throw new BusyError(busy)
      try {
        await this.framed.send({ type: 'res', id, body: result.body, stream: true })
        if (signal.aborted) return
        // A requester that stops granting credit does not pin the response's source past the request timeout.
        state.download = new OutboundStream(this.opts.requestTimeout)
        await state.download.run(data, this.opts.chunkSize, this.sink(id))
      } finally {
        this.opts.responseStreams.give(1)
        this.opts.nodeResponseStreams.give(1)
      }
    } catch (err) {
      if (signal.aborted || !this.framed.isOpen) return
      if (state.download === undefined) {
        this.framed.sendNow({ type: 'error', id, ...describeErrorForPeer(err) })
      }
      this.opts.logger.debug({ err, nodeId: this.nodeId, id }, 'request handler failed')
    } finally {
      this.incoming.delete(id)
      // The handler may have answered without reading all the data: tell the requester to stop.
      state.upload?.cancel()
      this.opts.inboundBudget.give(state.reserved)
      this.opts.nodeInboundBudget.give(state.reserved)
      if (data !== undefined && state.download === undefined) destroySource(data)
    }
  }

  /** Takes `n` from a connection's budget and the node's: undefined if both had room, else why not. */
  private take(mine: Budget, node: Budget, n: number, what: string): string | undefined {
    if (!mine.tryTake(n)) return `this connection already has ${mine.used} of its ${mine.limit} ${what}`
    if (!node.tryTake(n)) {
      mine.give(n)
      return `this node already has ${node.used} of its ${node.limit} ${what}`
    }
    return undefined
  }

  private refuseBusy(id: number, why: string): void {
    const err = new BusyError(`streamed request refused: ${why}`)
    if (!this.warnedBusy) {
      this.warnedBusy = true
      this.opts.logger.warn(
        { nodeId: this.nodeId, code: err.code, err: err.message },
        'refusing streamed requests over the inbound budget',
      )
    }
    this.framed.sendNow({ type: 'error', id, code: err.code, message: err.message })
  }

  private abortIncoming(id: number, err: Error): void {
    const state = this.incoming.get(id)
    if (!state) return
    state.controller.abort(err)
    state.upload?.fail(err)
    state.download?.cancel()
  }

  private keepAlive(): void {
    const now = Date.now()
    // A tick far behind schedule means this process did not run (SIGSTOP, suspend, a blocked loop): the
    // peer's frames may be waiting unread in the socket, so judge its silence on the next tick, not now.
    // Only one tick in a row is excused, so that a loop that is always blocked still drops dead peers.
    const excused = now - this.lastTick > 2 * this.opts.pingInterval && !this.excused
    this.excused = excused
    this.lastTick = now
    const silent = now - this.framed.lastReceived
    if (silent > this.opts.idleTimeout && !excused) {
      this.abort(new TimeoutError(`no frame from the peer for ${silent} ms`))
      return
    }
    this.framed.sendNow({ type: 'ping', n: this.pings++ })
  }
}

function destroySource(source: Source): void {
  const stream = source as Partial<Readable>
  if (typeof stream.destroy === 'function') stream.destroy()
}
