import { connect, createServer, type Server, type Socket } from 'node:net'

/** What the proxy does to traffic, in both directions. */
export type Fault =
  | { kind: 'none' }
  /**
   * A partition: bytes are held (both sides paused, as TCP would keep retransmitting) and nothing arrives,
   * no FIN, no RST, until the fault is cleared or the peers' own timeouts give up.
   */
  | { kind: 'cut' }
  /** Every open connection is reset (RST) and new ones are reset at once. */
  | { kind: 'reset' }
  /** Each chunk is held this long before it is passed on. */
  | { kind: 'delay'; ms: number }
  /** Throughput is capped per connection and direction. */
  | { kind: 'slow'; bytesPerSecond: number }

export interface FaultProxy {
  /** host:port to dial instead of the target. */
  readonly address: string
  setFault(fault: Fault): void
  readonly stats: { connections: number; open: number; bytes: number }
  close(): Promise<void>
}

/**
 * A TCP proxy on loopback that forwards to `target` and injects faults on command. It never buffers without
 * bound: while it holds a chunk (delay, slow) it pauses the side that sent it.
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const [host, portText] = splitHostPort(target)
  let fault: Fault = { kind: 'none' }
  const pairs = new Set<[Socket, Socket]>()
  const stats = { connections: 0, open: 0, bytes: 0 }
  let heal = () => {}
  let healed = Promise.resolve()

  const server: Server = createServer((client) => {
    stats.connections += 1
    if (fault.kind === 'reset') {
      client.resetAndDestroy()
      return
    }
    const upstream = connect({ host, port: Number(portText) })
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    stats.open += 1
    const closeBoth = () => {
      if (!pairs.delete(pair)) return
      stats.open -= 1
      client.destroy()
      upstream.destroy()
    }
    for (const side of pair) {
      side.on('error', closeBoth)
      side.on('close', closeBoth)
    }
    forward(client, upstream)
    forward(upstream, client)
  })

  function forward(from: Socket, to: Socket): void {
    let chain = Promise.resolve()
    from.on('data', (chunk: Buffer) => {
      from.pause()
      chain = chain.then(async () => {
        await applyFault(chunk)
        if (to.destroyed) return
        stats.bytes += chunk.length
        if (!to.write(chunk)) await new Promise((resolve) => to.once('drain', resolve))
        if (!from.destroyed) from.resume()
      })
    })
    from.on('end', () => {
      chain = chain.then(() => {
        if (!to.destroyed) to.end()
      })
    })
  }

  async function applyFault(chunk: Buffer): Promise<void> {
    while (fault.kind === 'cut') await healed
    const current = fault
    if (current.kind === 'delay') await wait(current.ms)
    if (current.kind === 'slow') await wait((chunk.length / current.bytesPerSecond) * 1000)
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const bound = server.address()
  if (bound === null || typeof bound === 'string') throw new Error('proxy did not bind a TCP port')

  return {
    address: `127.0.0.1:${bound.port}`,
    stats,
    setFault(next) {
      if (next.kind === 'cut' && fault.kind !== 'cut') healed = new Promise((resolve) => (heal = resolve))
      fault = next
      if (next.kind !== 'cut') heal()
      if (next.kind === 'reset')
        for (const [client, upstream] of pairs) {
          client.resetAndDestroy()
          upstream.destroy()
        }
    },
    async close() {
      for (const [client, upstream] of pairs) {
        client.destroy()
        upstream.destroy()
      }
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function splitHostPort(address: string): [string, string] {
  const at = address.lastIndexOf(':')
  if (at <= 0) throw new Error(`not a host:port address: ${address}`)
  return [address.slice(0, at).replace(/^\[|\]$/g, ''), address.slice(at + 1)]
}
