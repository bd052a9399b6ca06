// pnpm --filter @cas/p2p bench — one-connection stream throughput over loopback, plain and TLS,
// beside a raw node:net / node:tls socket pipe measured in the same run, and request round trips.
// Figures are printed (and appended to $CAS_BENCH_JSON when set), never asserted.
// CAS_BENCH_MIB (default 1024) sets the stream size, CAS_BENCH_ROUNDS (default 3) the rounds, each
// measuring the raw pipe and then p2p back to back (medians are printed); CAS_BENCH_QUICK=1: small and one round.

import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { appendFile } from 'node:fs/promises'
import { type AddressInfo, createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls'
import {
  casHandshake,
  createNodeIdentity,
  DEFAULT_CHUNK_SIZE,
  type NodeIdentity,
  TcpTransport,
} from '../src/index.js'

const MiB = 1024 * 1024
const QUICK = process.env.CAS_BENCH_QUICK === '1'
const TOTAL = Number(process.env.CAS_BENCH_MIB ?? (QUICK ? 128 : 1024)) * MiB
const PIECE = DEFAULT_CHUNK_SIZE
const ROUNDS = Number(process.env.CAS_BENCH_ROUNDS ?? (QUICK ? 1 : 3))
const SEQUENTIAL = QUICK ? 2_000 : 10_000
const CONCURRENT = QUICK ? 10_000 : 50_000
const IN_FLIGHT = 64
const pool = Array.from({ length: 16 }, () => randomBytes(PIECE))

interface Record {
  name: string
  unit: string
  value: number
  baseline?: { name: string; value: number }
}
const records: Record[] = []

function* pieces(total: number): Generator<Buffer> {
  for (let i = 0, sent = 0; sent < total; i++, sent += PIECE) yield pool[i % pool.length]!
}

async function* asyncPieces(total: number): AsyncGenerator<Uint8Array> {
  yield* pieces(total)
}

/** Writes `total` bytes into `socket` with backpressure. */
async function pump(socket: Socket, total: number): Promise<void> {
  for (const piece of pieces(total)) if (!socket.write(piece)) await once(socket, 'drain')
  socket.end()
}

/** Seconds until the listening side has read `total` bytes from a fresh connection. */
async function rawPipe(tls: boolean, id: NodeIdentity, total: number): Promise<number> {
  let received = 0
  let done!: () => void
  const finished = new Promise<void>((r) => (done = r))
  const onSocket = (s: Socket): void => {
    s.on('data', (c: Buffer) => {
      received += c.length
      if (received >= total) done()
    })
  }
  const server: Server = tls
    ? createTlsServer(
        {
          cert: id.certPem,
          key: id.keyPem,
          minVersion: 'TLSv1.3',
          requestCert: true,
          rejectUnauthorized: false,
        },
        onSocket,
      )
    : createServer(onSocket)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const client = tls
    ? tlsConnect({
        host: '127.0.0.1',
        port,
        cert: id.certPem,
        key: id.keyPem,
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
      })
    : netConnect({ host: '127.0.0.1', port })
  await once(client, tls ? 'secureConnect' : 'connect')
  client.setNoDelay(true)
  const started = performance.now()
  await Promise.all([pump(client, total), finished])
  const seconds = (performance.now() - started) / 1000
  client.destroy()
  server.close()
  return seconds
}

async function transports(tls: boolean, ids: NodeIdentity[]): Promise<[TcpTransport, TcpTransport]> {
  const a = new TcpTransport({ identity: ids[0]!, tls, handshake: casHandshake })
  const b = new TcpTransport({ identity: ids[1]!, tls, handshake: casHandshake })
  await a.listen()
  await b.listen()
  b.handle(async (req) => {
    const n = req.body as number
    return n > 0 ? { body: null, data: asyncPieces(n) } : { body: n }
  })
  return [a, b]
}

/** Seconds for one response stream of `total` bytes over an established connection. */
async function p2pStream(a: TcpTransport, b: TcpTransport, total: number): Promise<number> {
  const peer = await a.dial(b.listenAddr)
  const started = performance.now()
  const res = await peer.request(total)
  let received = 0
  for await (const chunk of res.data!) received += chunk.length
  if (received !== total) throw new Error(`received ${received} of ${total} bytes`)
  return (performance.now() - started) / 1000
}

async function roundTrips(
  a: TcpTransport,
  b: TcpTransport,
): Promise<{ sequential: number; concurrent: number }> {
  const peer = await a.dial(b.listenAddr)
  let started = performance.now()
  for (let i = 0; i < SEQUENTIAL; i++) await peer.request(0)
  const sequential = SEQUENTIAL / ((performance.now() - started) / 1000)
  started = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < CONCURRENT) {
        next++
        await peer.request(0)
      }
    }),
  )
  const concurrent = CONCURRENT / ((performance.now() - started) / 1000)
  return { sequential, concurrent }
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y)
  return s[Math.floor(s.length / 2)]!
}

const ids = [await createNodeIdentity(), await createNodeIdentity()]
const mib = TOTAL / MiB
console.log(
  `p2p bench: one connection, ${mib} MiB stream in ${PIECE / 1024} KiB pieces, loopback, median of ${ROUNDS} round(s)\n`,
)

for (const tls of [false, true]) {
  const label = tls ? 'TLS 1.3' : 'plain TCP'
  const rawName = tls ? 'raw node:tls socket' : 'raw node:net socket'
  const [a, b] = await transports(tls, ids)
  const raws: number[] = []
  const p2ps: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    raws.push(mib / (await rawPipe(tls, ids[0]!, TOTAL)))
    p2ps.push(mib / (await p2pStream(a, b, TOTAL)))
  }
  const rawMiBs = median(raws)
  const p2pMiBs = median(p2ps)
  const rt = await roundTrips(a, b)
  await a.close()
  await b.close()
  console.log(`${label}`)
  console.log(`  ${rawName.padEnd(28)} ${rawMiBs.toFixed(0).padStart(6)} MiB/s`)
  console.log(
    `  ${'p2p stream'.padEnd(28)} ${p2pMiBs.toFixed(0).padStart(6)} MiB/s   ${(p2pMiBs / rawMiBs).toFixed(2)}× raw`,
  )
  console.log(`  ${'requests, 1 in flight'.padEnd(28)} ${rt.sequential.toFixed(0).padStart(6)} round trips/s`)
  console.log(
    `  ${`requests, ${IN_FLIGHT} in flight`.padEnd(28)} ${rt.concurrent.toFixed(0).padStart(6)} requests/s\n`,
  )
  const mode = tls ? 'tls' : 'plain'
  records.push(
    { name: `stream ${mode}`, unit: 'MiB/s', value: p2pMiBs, baseline: { name: rawName, value: rawMiBs } },
    { name: `round trips ${mode} (1 in flight)`, unit: 'req/s', value: rt.sequential },
    { name: `requests ${mode} (${IN_FLIGHT} in flight)`, unit: 'req/s', value: rt.concurrent },
  )
}

if (process.env.CAS_BENCH_JSON) {
  await appendFile(
    process.env.CAS_BENCH_JSON,
    records.map((r) => `${JSON.stringify({ suite: 'p2p', ...r })}\n`).join(''),
  )
}
