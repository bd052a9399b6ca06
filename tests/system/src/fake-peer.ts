import { createPrivateKey } from 'node:crypto'
import { once } from 'node:events'
import type { TLSSocket } from 'node:tls'
import { generateOwnerKey, type OwnerKey, sign } from '@cas/crypto'
import {
  casHandshake,
  certificateSpki,
  createNodeIdentity,
  encodeFrame,
  FrameDecoder,
  type HandshakeContext,
  type Message,
  msgpackCodec,
  type NodeIdentity,
  nodeIdOf,
  parseMessage,
  TLS_EXPORTER_LABEL,
} from '@cas/p2p'
import { dialAsNode } from './dial-as-node.js'

/** Frames the fake peer itself accepts: generous, since it is the node's answers we read. */
const FAKE_MAX_FRAME = 64 * 1024 * 1024
/** Largest data piece in one chunk frame the fake sends (the node's frames are at most ~1 MiB). */
const PIECE = 256 * 1024
/** How long the fake waits for the node's TLS and cas/1 handshake. */
const HANDSHAKE_TIMEOUT = 15_000

export interface FakePeerOptions {
  /** Its own node certificate; default a fresh one. */
  identity?: NodeIdentity
  /** The owner key it proves in the handshake and signs with; default a fresh one. */
  owner?: OwnerKey
  /** Proves this network key in the handshake (a node with a key refuses peers without it). */
  networkKey?: Uint8Array
  /** The local address to dial from (any 127.x.y.z): default the system's choice, 127.0.0.1. */
  from?: string
}

/** What the fake answers a request of the node's (see FakePeer.serve). */
export type FakeAnswer = { body: unknown; data?: Buffer } | { code: string; message: string }

/** What a request of the fake peer got back: the node's `res` (with any data) or its `error`. */
export type FakeReply =
  | { kind: 'res'; body: unknown; data: Buffer }
  | { kind: 'error'; code: string; message: string }

interface Pending {
  resolve(reply: FakeReply): void
  reject(err: Error): void
  body: unknown
  chunks: Buffer[]
  streaming: boolean
}

/**
 * A peer that speaks the real cas/1 wire protocol (TLS 1.3 with its own node
 * certificate, the authenticated handshake, msgpack frames) but whose every
 * frame is chosen by the test: well-formed requests, forged ones, and bytes no
 * honest peer would send. It answers the node's pings (so it is not dropped as
 * idle) and refuses every request the node sends it, so a node never counts
 * on it as a replica holder.
 */
export class FakePeer {
  readonly nodeId: string
  readonly owner: OwnerKey
  /** The node's id, as its certificate proves. */
  readonly remoteNodeId: string
  /** Resolves when the node closes the connection, with the reason it sent (an `error` with id 0), if any. */
  readonly closed: Promise<string | undefined>
  /** Requests the node sent us (its gossip, replicas), each refused. */
  readonly incoming: { id: number; body: unknown }[] = []
  /**
   * Answers the node's requests when set (each with its upload, whole): a body (and data, sent as a
   * stream), or an error. Unset, every request is refused, so the node never counts on this peer.
   */
  serve: ((req: { body: unknown; data: Buffer | undefined }) => FakeAnswer) | undefined
  private readonly pending = new Map<number, Pending>()
  /** Uploads of the node's requests in progress (ids are the node's: even, as we dialled). */
  private readonly uploads = new Map<number, { body: unknown; chunks: Buffer[] }>()
  private nextId = 1
  private closeReason: string | undefined
  private isClosed = false

  private constructor(
    private readonly socket: TLSSocket,
    identity: NodeIdentity,
    owner: OwnerKey,
    remoteNodeId: string,
  ) {
    this.nodeId = identity.nodeId
    this.owner = owner
    this.remoteNodeId = remoteNodeId
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true
        for (const p of this.pending.values())
          p.reject(new Error(`closed: ${this.closeReason ?? 'no reason'}`))
        this.pending.clear()
        resolve(this.closeReason)
      })
    })
  }

  /** Connects to a node's P2P address and completes TLS and the cas/1 handshake as a dialer. */
  static async connect(addr: string, opts: FakePeerOptions = {}): Promise<FakePeer> {
    const identity = opts.identity ?? (await createNodeIdentity())
    const owner = opts.owner ?? generateOwnerKey()
    const socket = dialAsNode(addr, identity, opts.from)
    socket.on('error', () => {}) // the close carries the outcome
    const timer = setTimeout(() => socket.destroy(new Error('handshake timed out')), HANDSHAKE_TIMEOUT)
    try {
      await Promise.race([
        once(socket, 'secureConnect'),
        once(socket, 'close').then(() => {
          throw new Error(`the node at ${addr} closed the connection during TLS`)
        }),
      ])
      const cert = socket.getPeerX509Certificate()
      if (!cert) throw new Error('the node presented no certificate')
      const remoteNodeId = nodeIdOf(cert.publicKey.export({ type: 'spki', format: 'der' }))
      const reader = new HandshakeReader(socket)
      const ctx: HandshakeContext = {
        direction: 'outbound',
        local: {
          nodeId: identity.nodeId,
          listenAddr: undefined, // never dialled back: the node learns no address to call
          owner: { publicKeyDer: owner.publicKeyDer, sign: (data) => sign(owner, data) },
          networkKey: opts.networkKey,
          nodeKey: createPrivateKey(identity.keyPem),
          nodePubDer: certificateSpki(identity.certPem),
        },
        tls: {
          peerNodeId: remoteNodeId,
          keyingMaterial: socket.exportKeyingMaterial(32, TLS_EXPORTER_LABEL, Buffer.alloc(0)),
        },
        send: async (m) => {
          socket.write(encodeFrame(msgpackCodec, m, FAKE_MAX_FRAME))
        },
        receive: () => reader.next(),
      }
      await casHandshake(ctx)
      // The smaller nodeId decides whether this connection stays (see the p2p README).
      if (identity.nodeId < remoteNodeId) {
        await expectReady(await reader.next())
        socket.write(encodeFrame(msgpackCodec, { type: 'ready' }, FAKE_MAX_FRAME))
      } else {
        socket.write(encodeFrame(msgpackCodec, { type: 'ready' }, FAKE_MAX_FRAME))
        await expectReady(await reader.next())
      }
      const peer = new FakePeer(socket, identity, owner, remoteNodeId)
      reader.handOver((m) => peer.onMessage(m))
      return peer
    } catch (err) {
      socket.destroy()
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  get isOpen(): boolean {
    return !this.isClosed
  }

  /** Writes bytes as they are: a hostile length prefix, a half frame, garbage. */
  sendRaw(bytes: Uint8Array): void {
    this.socket.write(bytes)
  }

  /** Encodes any value as one msgpack frame, with no schema or size check. */
  sendMessage(message: unknown): void {
    this.socket.write(encodeFrame(msgpackCodec, message, FAKE_MAX_FRAME))
  }

  /** Sends a `req` with an application body (and optional data, as chunks) and waits for the node's answer. */
  request(body: unknown, opts: { data?: Uint8Array; timeout?: number } = {}): Promise<FakeReply> {
    const id = this.nextId
    this.nextId += 2
    const timeout = opts.timeout ?? 30_000
    return new Promise<FakeReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`no answer to request ${id} within ${timeout} ms`))
      }, timeout)
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer)
          resolve(r)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
        body: undefined,
        chunks: [],
        streaming: false,
      })
      this.sendMessage({ type: 'req', id, body, stream: opts.data !== undefined })
      if (opts.data !== undefined) {
        // Payloads within the protocol's initial stream window only, so no credit is awaited.
        const data = opts.data
        for (let seq = 0; seq * PIECE < data.length || seq === 0; seq++) {
          this.sendMessage({ type: 'chunk', id, seq, data: data.subarray(seq * PIECE, (seq + 1) * PIECE) })
        }
        this.sendMessage({ type: 'end', id })
      }
    })
  }

  /** Sends `count` requests at once without waiting; resolves with every answer (or failure). */
  flood(bodies: unknown[], timeout = 30_000): Promise<PromiseSettledResult<FakeReply>[]> {
    return Promise.allSettled(bodies.map((body) => this.request(body, { timeout })))
  }

  /**
   * Writes up to `count` requests with `body` without tracking their answers, as fast as our
   * own socket takes them; stops early when the node closes the connection. Returns how many went out.
   */
  async blast(body: unknown, count: number): Promise<number> {
    let sent = 0
    while (sent < count && this.isOpen) {
      const frames: Buffer[] = []
      for (let i = 0; i < 1_000 && sent < count; i++, sent++) {
        frames.push(
          encodeFrame(msgpackCodec, { type: 'req', id: this.nextId, body, stream: false }, FAKE_MAX_FRAME),
        )
        this.nextId += 2
      }
      if (!this.socket.write(Buffer.concat(frames))) {
        // A reset here is the node hanging up: the loop ends on isOpen.
        await Promise.race([once(this.socket, 'drain').catch(() => undefined), this.closed])
      }
    }
    return sent
  }

  /** A fresh request id of ours, for a `req` the test writes itself with `sendMessage`. */
  takeRequestId(): number {
    const id = this.nextId
    this.nextId += 2
    return id
  }

  /**
   * Opens a streamed request and sends `chunks` as its data without ending it: the node holds a
   * request whose upload is still coming (within the protocol's initial window, so no credit is awaited).
   */
  async openUpload(body: unknown, chunks: Uint8Array[]): Promise<number> {
    const id = this.takeRequestId()
    await this.write({ type: 'req', id, body, stream: true })
    for (const [seq, data] of chunks.entries()) await this.write({ type: 'chunk', id, seq, data })
    return id
  }

  /** Writes one frame and waits for our socket to take more (so a flood does not pile up in the test). */
  async write(message: unknown): Promise<void> {
    if (!this.isOpen) return
    if (!this.socket.write(encodeFrame(msgpackCodec, message, FAKE_MAX_FRAME))) {
      await Promise.race([once(this.socket, 'drain').catch(() => undefined), this.closed])
    }
  }

  /** Stops reading the socket: the node's replies pile up in its own buffers (a peer that floods and never reads). */
  stopReading(): void {
    this.socket.pause()
  }

  close(): void {
    this.socket.destroy()
  }

  private onMessage(m: Message): void {
    switch (m.type) {
      case 'ping':
        this.sendMessage({ type: 'pong', n: m.n })
        return
      case 'error':
        if (m.id === 0) {
          this.closeReason = `${m.code}: ${m.message}`
          return
        }
        this.settle(m.id, { kind: 'error', code: m.code, message: m.message })
        return
      case 'res': {
        const p = this.pending.get(m.id)
        if (!p) return
        if (!m.stream) this.settle(m.id, { kind: 'res', body: m.body, data: Buffer.alloc(0) })
        else {
          p.body = m.body
          p.streaming = true
        }
        return
      }
      case 'chunk': {
        const upload = this.uploads.get(m.id)
        if (upload) {
          upload.chunks.push(Buffer.from(m.data))
          this.sendMessage({ type: 'credit', id: m.id, n: m.data.length })
          return
        }
        const p = this.pending.get(m.id)
        if (!p) return
        p.chunks.push(Buffer.from(m.data))
        // Grant what we read, so that a large answer keeps flowing.
        this.sendMessage({ type: 'credit', id: m.id, n: m.data.length })
        return
      }
      case 'end': {
        const upload = this.uploads.get(m.id)
        if (upload) {
          this.uploads.delete(m.id)
          this.answer(m.id, upload.body, Buffer.concat(upload.chunks))
          return
        }
        const p = this.pending.get(m.id)
        if (p?.streaming) this.settle(m.id, { kind: 'res', body: p.body, data: Buffer.concat(p.chunks) })
        return
      }
      case 'req':
        this.incoming.push({ id: m.id, body: m.body })
        if (this.serve && m.stream) this.uploads.set(m.id, { body: m.body, chunks: [] })
        else this.answer(m.id, m.body, undefined)
        return
      default:
        return
    }
  }

  private answer(id: number, body: unknown, data: Buffer | undefined): void {
    // Without a `serve`, refuse, so that the node relies on honest peers only.
    const a = this.serve?.({ body, data }) ?? { code: 'ERR_FAKE_PEER', message: 'a fake peer serves nothing' }
    if ('code' in a) {
      this.sendMessage({ type: 'error', id, code: a.code, message: a.message })
      return
    }
    this.sendMessage({ type: 'res', id, body: a.body, stream: a.data !== undefined })
    if (a.data === undefined) return
    for (let seq = 0; seq * PIECE < a.data.length; seq++) {
      this.sendMessage({ type: 'chunk', id, seq, data: a.data.subarray(seq * PIECE, (seq + 1) * PIECE) })
    }
    this.sendMessage({ type: 'end', id })
  }

  private settle(id: number, reply: FakeReply): void {
    const p = this.pending.get(id)
    if (!p) return
    this.pending.delete(id)
    p.resolve(reply)
  }
}

function expectReady(m: Message): void {
  if (m.type === 'error') throw new Error(`the node refused the fake peer: ${m.code} ${m.message}`)
  if (m.type !== 'ready') throw new Error(`expected ready, got ${m.type}`)
}

/** Cuts the socket's bytes into validated messages; queues them for the handshake, then hands over. */
class HandshakeReader {
  private readonly decoder = new FrameDecoder(FAKE_MAX_FRAME)
  private readonly queue: Message[] = []
  private waiter: { resolve(m: Message): void; reject(e: Error): void } | undefined
  private handler: ((m: Message) => void) | undefined
  private failure: Error | undefined

  constructor(socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const body of this.decoder.push(chunk)) this.deliver(parseMessage(msgpackCodec.decode(body)))
      } catch (err) {
        this.fail(err as Error)
        socket.destroy()
      }
    })
    socket.once('close', () => this.fail(new Error('the node closed the connection')))
  }

  next(): Promise<Message> {
    const m = this.queue.shift()
    if (m) return Promise.resolve(m)
    if (this.failure) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject }
    })
  }

  handOver(handler: (m: Message) => void): void {
    this.handler = handler
    for (const m of this.queue.splice(0)) handler(m)
  }

  private deliver(m: Message): void {
    if (this.handler) this.handler(m)
    else if (this.waiter) {
      const w = this.waiter
      this.waiter = undefined
      w.resolve(m)
    } else this.queue.push(m)
  }

  private fail(err: Error): void {
    this.failure ??= err
    this.waiter?.reject(this.failure)
    this.waiter = undefined
  }
}
