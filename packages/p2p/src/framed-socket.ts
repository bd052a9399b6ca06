import type { Duplex } from 'node:stream'
import type { Codec } from './codec.js'
import { ConnectionClosedError, TimeoutError } from './errors.js'
import { encodeFrame, encodeFrameParts, FrameDecoder } from './framing.js'
import { type Message, type OutgoingMessage, parseMessage } from './messages.js'

/** Frames queued while a handshake is in progress before reading pauses. */
const MAX_HANDSHAKE_INBOX = 8
/** How long a graceful close waits for the peer to close its side. */
const CLOSE_GRACE_MS = 2_000
/** Replies to a peer that does not read are dropped past this many queued bytes. */
export const MAX_UNREAD_REPLY_BYTES = 1024 * 1024

/**
 * A byte stream (a socket, or one end of an in-memory pipe) that speaks validated messages:
 * it cuts frames, decodes and checks each against the schema, and writes with backpressure.
 * The first failure (a bad frame, a socket error, a close) becomes the connection's one reason.
 */
export class FramedSocket {
  readonly closed: Promise<Error | undefined>
  /** Last time a frame arrived (ms since the epoch), for keep-alive. */
  lastReceived = Date.now()
  private reason: Error | undefined
  private isClosed = false
  private readonly decoder: FrameDecoder
  private handler: ((message: Message) => void) | undefined
  private inbox: Message[] = []
  private waiter: { resolve: (m: Message) => void; reject: (e: Error) => void } | undefined
  private drain: Promise<void> | undefined
  private corked = false

  /**
   * `stallTimeout`: the longest a write may wait for the socket to drain. A peer that reads nothing
   * for that long (while perhaps still sending pings) is disconnected, so its unread answers do not
   * pin this node's buffers and sources.
   */
  constructor(
    readonly socket: Duplex,
    private readonly codec: Codec,
    private readonly maxFrameSize: number,
    private readonly stallTimeout: number,
  ) {
    this.decoder = new FrameDecoder(maxFrameSize)
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true
        this.reason ??= new ConnectionClosedError('the connection closed')
        this.waiter?.reject(this.reason)
        this.waiter = undefined
        resolve(this.reason)
      })
    })
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('end', () => {
      try {
        this.decoder.end()
        this.fail(new ConnectionClosedError('the peer closed the connection'))
      } catch (err) {
        this.fail(err as Error)
      }
    })
    socket.on('error', (err) =>
      this.fail(new ConnectionClosedError(`socket error: ${err.message}`, { cause: err })),
    )
  }

  get isOpen(): boolean {
    return !this.isClosed && this.reason === undefined
  }

  /** Why the connection closed (or is closing), once it is. */
  get closeReason(): Error | undefined {
    return this.reason
  }

  /** Delivers every later message (and any queued one) to `handler` instead of `receive()`. */
  setHandler(handler: (message: Message) => void): void {
    this.handler = handler
    const queued = this.inbox
    this.inbox = []
    try {
      for (const m of queued) if (this.isOpen) this.dispatch(m)
    } catch (err) {
      this.fail(err as Error)
    }
    this.socket.resume()
  }

  /** The next message, for handshakes; rejects with the close reason. */
  receive(): Promise<Message> {
    const queued = this.inbox.shift()
    if (this.inbox.length < MAX_HANDSHAKE_INBOX) this.socket.resume()
    if (queued) return Promise.resolve(queued)
    if (!this.isOpen) return Promise.reject(this.reason)
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject }
    })
  }

  /** Writes one frame, resolving once the socket wants more (backpressure). */
  async send(message: OutgoingMessage): Promise<void> {
    if (!this.isOpen) throw this.reason
    const parts = encodeFrameParts(this.codec, message, this.maxFrameSize)
    let wantsMore = true
    this.corkForTick()
    for (const part of parts) wantsMore = this.socket.write(part)
    if (wantsMore) return
    await this.untilDrained()
  }

  /** Resolves when the socket drains; past `stallTimeout` without it, the connection is closed. */
  private untilDrained(): Promise<void> {
    this.drain ??= new Promise<void>((resolve, reject) => {
      const stalled = setTimeout(() => {
        this.close(new TimeoutError(`the peer read nothing for ${this.stallTimeout} ms`))
      }, this.stallTimeout)
      const onDrain = (): void => {
        clearTimeout(stalled)
        this.socket.off('close', onClose)
        this.drain = undefined
        resolve()
      }
      const onClose = (): void => {
        clearTimeout(stalled)
        this.socket.off('drain', onDrain)
        this.drain = undefined
        reject(this.reason)
      }
      this.socket.once('drain', onDrain)
      this.socket.once('close', onClose)
    })
    return this.drain
  }

  /**
   * Writes a small control frame without waiting. A `droppable` one (a pong) is
   * skipped when the peer has stopped reading, so a ping flood cannot grow our buffers.
   */
  sendNow(message: OutgoingMessage, droppable = false): void {
    if (!this.isOpen) return
    if (droppable && this.socket.writableLength > MAX_UNREAD_REPLY_BYTES) return
    this.corkForTick()
    // Nobody waits for a control frame, but a peer that stops reading them is timed out all the same.
    if (!this.socket.write(encodeFrame(this.codec, message, this.maxFrameSize))) {
      this.untilDrained().catch(() => {})
    }
  }

  /**
   * Closes with `reason`. A local, graceful close flushes what is queued and
   * waits briefly for the peer; a protocol failure destroys the socket at once.
   */
  close(reason: Error, graceful = false): void {
    if (this.reason === undefined) this.reason = reason
    if (this.isClosed) return
    this.waiter?.reject(this.reason)
    this.waiter = undefined
    if (graceful) {
      this.socket.end()
      setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref()
    } else {
      this.socket.destroy()
    }
  }

  /**
   * Holds writes until the end of this tick, so that the many small frames of
   * concurrent requests leave in one system call instead of one each.
   */
  private corkForTick(): void {
    if (this.corked) return
    this.corked = true
    this.socket.cork()
    process.nextTick(() => {
      this.corked = false
      this.socket.uncork()
    })
  }

  private fail(err: Error): void {
    this.close(err)
  }

  private onData(chunk: Buffer): void {
    if (!this.isOpen) return
    this.lastReceived = Date.now()
    try {
      for (const body of this.decoder.push(chunk)) {
        const message = parseMessage(this.codec.decode(body))
        this.dispatch(message)
        if (!this.isOpen) return
      }
    } catch (err) {
      this.fail(err as Error)
    }
  }

  private dispatch(message: Message): void {
    if (this.handler) {
      this.handler(message)
      return
    }
    if (this.waiter) {
      const w = this.waiter
      this.waiter = undefined
      w.resolve(message)
      return
    }
    this.inbox.push(message)
    // The peer may start its requests before we have read its last handshake frame.
    if (this.inbox.length >= MAX_HANDSHAKE_INBOX) this.socket.pause()
  }
}
