import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import {
  createNodeIdentity,
  encodeFrame,
  FrameDecoder,
  type Logger,
  type Message,
  msgpackCodec,
  type NodeIdentity,
  nopHandshake,
  type OutgoingMessage,
  type OwnerSigner,
  type Peer,
  PROTOCOL,
  parseMessage,
  TcpTransport,
  type TcpTransportOptions,
} from '../src/index.js'

const identities: NodeIdentity[] = []

/** Identities are slow-ish to make; tests reuse a small pool by index. */
export async function identity(i: number): Promise<NodeIdentity> {
  while (identities.length <= i) identities.push(await createNodeIdentity())
  return identities[i]!
}

/** Creates transports and closes every one of them after the test. */
export class Transports {
  private all: TcpTransport[] = []

  async make(i: number, opts: Partial<TcpTransportOptions> = {}): Promise<TcpTransport> {
    const t = new TcpTransport({ identity: await identity(i), handshake: nopHandshake, ...opts })
    this.all.push(t)
    return t
  }

  async listening(i: number, opts: Partial<TcpTransportOptions> = {}): Promise<TcpTransport> {
    const t = await this.make(i, opts)
    await t.listen()
    return t
  }

  async closeAll(): Promise<void> {
    const all = this.all
    this.all = []
    await Promise.all(all.map((t) => t.close()))
  }
}

/** Polls `check` until it holds, failing after `ms`. */
export async function until(check: () => boolean, ms = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setImmediate(r))
  }
}

export interface LogEntry {
  level: string
  obj: Record<string, unknown>
  msg: string | undefined
}

/** A logger that keeps what it is told, for asserting on logged reasons. */
export function captureLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = []
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      entries.push({ level, obj: obj as Record<string, unknown>, msg })
    }
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** Deterministic pseudo-random bytes, so that every byte of a transfer can be checked. */
export function patternBytes(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size)
  let x = (seed * 2654435761) >>> 0 || 1
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out.writeUInt32LE(x, Math.min(i, size - 4))
  }
  return out
}

/** Yields `total` bytes of the pattern for `seed` in `piece`-byte chunks, never holding it all. */
export async function* patternStream(
  total: number,
  seed: number,
  piece = 64 * 1024,
): AsyncGenerator<Uint8Array> {
  const block = patternBytes(1024 * 1024, seed)
  for (let at = 0; at < total; at += piece) {
    const n = Math.min(piece, total - at)
    const off = at % block.length
    if (off + n <= block.length) yield block.subarray(off, off + n)
    else yield Buffer.concat([block.subarray(off), block.subarray(0, n - (block.length - off))])
  }
}

/** SHA-256 and length of a byte stream. */
export async function digest(data: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256')
  let size = 0
  for await (const chunk of data) {
    h.update(chunk)
    size += chunk.length
  }
  return { sha256: h.digest('hex'), size }
}

export async function digestOf(data: AsyncIterable<Uint8Array>): Promise<string> {
  return (await digest(data)).sha256
}

/** Resolves with the peer event's arguments the next time `t` loses a peer. */
export function nextPeerClose(t: TcpTransport): Promise<{ peer: Peer; reason: Error | undefined }> {
  return new Promise((resolve) =>
    t.once('peer:close', (peer: Peer, reason: Error | undefined) => resolve({ peer, reason })),
  )
}

/** An Ed25519 owner signer made with node:crypto, as @cas/crypto's OwnerKey would provide. */
export function ownerSigner(): OwnerSigner & { privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  return {
    privateKey,
    publicKeyDer: publicKey.export({ type: 'spki', format: 'der' }),
    sign: (data) => sign(null, data, privateKey),
  }
}

/** The highest possible nodeId, so that a real transport always arbitrates against a raw peer. */
export const RAW_NODE_ID = 'f'.repeat(64)

/**
 * A hand-driven peer over a raw socket: it does the nop handshake (or not),
 * then lets a test send frames or arbitrary bytes and watch what comes back.
 */
export class RawPeer {
  readonly received: Message[] = []
  readonly closed: Promise<void>
  /** Answer pings, as a live peer would. */
  autoPong = false
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024)

  private constructor(readonly socket: Socket) {
    socket.on('error', () => {})
    socket.on('data', (chunk: Buffer) => {
      for (const body of this.decoder.push(chunk)) {
        const m = parseMessage(msgpackCodec.decode(body))
        this.received.push(m)
        if (m.type === 'ping' && this.autoPong) this.send({ type: 'pong', n: m.n })
      }
    })
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
  }

  /** `from`: the local address to connect from (any 127.x.y.z works on loopback). */
  static async connect(addr: string, from?: string): Promise<RawPeer> {
    const [host, port] = addr.split(':') as [string, string]
    const socket = connect({ host, port: Number(port), ...(from !== undefined && { localAddress: from }) })
    await once(socket, 'connect')
    return new RawPeer(socket)
  }

  /** Connects and completes the nop handshake, waiting for the transport's `ready`. */
  static async handshaken(addr: string): Promise<RawPeer> {
    const peer = await RawPeer.connect(addr)
    peer.send({ type: 'hello', proto: PROTOCOL, nodeId: RAW_NODE_ID, sig: new Uint8Array(0) })
    peer.send({ type: 'ready' })
    await until(() => peer.received.some((m) => m.type === 'ready'), 5_000, 'ready')
    return peer
  }

  send(message: OutgoingMessage): void {
    this.socket.write(encodeFrame(msgpackCodec, message, 64 * 1024 * 1024))
  }

  get isClosed(): boolean {
    return this.socket.closed
  }
}
