import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import {
  createNodeIdentity,
  type Logger,
  type NodeIdentity,
  nopHandshake,
  type Peer,
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

/** A raw TCP client, for feeding a transport bytes no honest peer would send. */
export async function rawClient(addr: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  const [host, port] = addr.split(':') as [string, string]
  const socket = connect({ host, port: Number(port) })
  await once(socket, 'connect')
  socket.on('error', () => {})
  socket.resume()
  const closed = once(socket, 'close').then(() => undefined)
  return { socket, closed }
}

/** Resolves with the peer event's arguments the next time `t` loses a peer. */
export function nextPeerClose(t: TcpTransport): Promise<{ peer: Peer; reason: Error | undefined }> {
  return new Promise((resolve) =>
    t.once('peer:close', (peer: Peer, reason: Error | undefined) => resolve({ peer, reason })),
  )
}
