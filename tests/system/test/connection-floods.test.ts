import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { setInterval as every } from 'node:timers/promises'
import {
  createNodeIdentity,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_MAX_INBOUND_CONNECTIONS,
  DEFAULT_MAX_INBOUND_PER_ADDRESS,
  DEFAULT_MAX_PENDING_HANDSHAKES,
  parseAddress,
  TcpTransport,
} from '@cas/p2p'
import { DEFAULT_MAX_PEERS } from '@cas/server'
import { type ClusterNode, LocalCluster, until } from '@cas/test-kit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { untilConnectedPeers } from '../src/connected-peers.js'
import { dialAsNode } from '../src/dial-as-node.js'
import { FakePeer } from '../src/fake-peer.js'
import { readLog } from '../src/node-log.js'
import { evictLocal, getBytes } from '../src/object-io.js'
import { openSockets, peakRss } from '../src/process-memory.js'
import { amount, iterations, reportFigures } from '../src/suite-mode.js'
import { cidOf, corruptBytes, isAlive, putRandom } from './helpers/objects.js'

/**
 * Promise: a flood of connections cannot take a node down or push its honest peers out.
 * Against a real node process: 2,000 idle TCP connections, slow senders (a TLS record a
 * byte at a time, a TLS session that stops half-way through its cas/1 hello), and more
 * authenticated peers than maxInboundConnections. Pending handshakes and connections stay
 * within the p2p defaults (read from /metrics, and from the sockets the process holds),
 * every socket the node accepted is closed by the handshake deadline, peak memory stays
 * under a stated bound, and an honest peer completes a transfer during each flood.
 */

const IDLE_CONNECTIONS = amount(2_000, 2_000)
const SLOW_SENDERS = 10
const HALF_HANDSHAKES = 10
/** Authenticated fake peers, more than the node takes: maxInboundConnections plus some. */
const EXTRA_PEERS = amount(24, 64)
/** Peak RSS allowed for the node under the floods: its ~100 MiB at rest plus room, far from "unbounded". */
const RSS_BOUND = 256 * 1024 * 1024
/** Sockets the process may hold beyond the inbound limit: listeners, the API, outbound peers, scrapes. */
const SOCKET_SLACK = 24
/** Slack on the handshake deadline for a loaded 2-core machine. */
const DEADLINE_SLACK = 10_000
const TRANSFER_SIZE = 1024 * 1024

let cluster: LocalCluster
let victim: ClusterNode
let honest: ClusterNode
let logFile: string
const open = new Set<Socket>()
const fakes: FakePeer[] = []
const figures = {
  objectsChecked: 0,
  corruptBytes: 0,
  objectsLost: 0,
  socketsOpened: 0,
  closedAtOnce: 0,
  heldThenClosed: 0,
  peersAccepted: 0,
  peersRefused: 0,
  maxPending: 0,
  maxInbound: 0,
  maxSockets: 0,
  newPeersJoined: 0,
}

beforeAll(async () => {
  cluster = new LocalCluster({ args: ['--replication', '1'] })
  victim = await cluster.add({ name: 'victim' })
  honest = await cluster.add({ name: 'honest' })
  logFile = `${await cluster.dir()}/victim.log`
  await untilConnectedPeers(honest, 1, 20_000)
}, 120_000)

afterEach(() => {
  for (const s of open) s.destroy()
  open.clear()
  for (const f of fakes.splice(0)) f.close()
})

afterAll(async () => {
  await cluster?.stop()
})

interface Tracked {
  socket: Socket
  openedAt: number
  closedAt: number | undefined
}

function track(socket: Socket): Tracked {
  const t: Tracked = { socket, openedAt: Date.now(), closedAt: undefined }
  open.add(socket)
  figures.socketsOpened++
  socket.on('error', () => {}) // a reset is how a refusal looks from here
  // Read (and drop) what the node sends, or its close would wait behind unread data.
  socket.resume()
  socket.once('close', () => {
    t.closedAt = Date.now()
    open.delete(socket)
  })
  return t
}

/**
 * The `i`-th of many hosts, each its own loopback address, 8 to a /24: a flood from as many hosts
 * as it takes to get past the node's caps per address (16) and per address group (32).
 */
function host(i: number): string {
  return `127.1.${Math.floor(i / 8) % 250}.${1 + (i % 8) + 8 * Math.floor(i / 2000)}`
}
let hosts = 0
const nextHost = (): string => host(hosts++)

/** Opens `n` plain TCP connections that never send a byte, `batch` at a time, each from its own host. */
async function idleConnections(n: number, batch = 250): Promise<Tracked[]> {
  const { host, port } = parseAddress(victim.p2p)
  const all: Tracked[] = []
  for (let i = 0; i < n; i += batch) {
    const wave = Array.from({ length: Math.min(batch, n - i) }, () =>
      track(connect({ host, port, localAddress: nextHost() })),
    )
    await Promise.all(
      wave.map((t) =>
        Promise.race([once(t.socket, 'connect'), once(t.socket, 'close')]).catch(() => undefined),
      ),
    )
    all.push(...wave)
  }
  return all
}

/** A TLS record header announcing 512 bytes, then one byte every 250 ms: it never completes. */
function slowSender(): { tracked: Tracked; stop: () => void } {
  const { host, port } = parseAddress(victim.p2p)
  const tracked = track(connect({ host, port, localAddress: nextHost() }))
  const header = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
  let sent = 0
  const timer = setInterval(() => {
    if (tracked.closedAt !== undefined) return clearInterval(timer)
    tracked.socket.write(header.subarray(sent % header.length, (sent % header.length) + 1))
    sent++
  }, 250)
  return { tracked, stop: () => clearInterval(timer) }
}

/** A full TLS session with a node certificate, then two bytes of a frame length, then silence. */
async function halfHandshake(): Promise<Tracked> {
  const socket = dialAsNode(victim.p2p, await createNodeIdentity(), nextHost())
  const tracked = track(socket)
  await Promise.race([once(socket, 'secureConnect'), once(socket, 'close')]).catch(() => undefined)
  if (tracked.closedAt === undefined) socket.write(Buffer.from([0x00, 0x00]))
  return tracked
}

async function metrics(): Promise<Record<string, number>> {
  const res = await victim.client.send('GET', '/metrics')
  let text = ''
  for await (const chunk of res as AsyncIterable<Buffer>) text += chunk.toString()
  const out: Record<string, number> = {}
  for (const m of text.matchAll(/^(cas_p2p_[a-z_]+) (\d+)$/gm)) out[m[1] as string] = Number(m[2])
  return out
}

/** Samples the node's counters every 100 ms until stopped, keeping the maxima. */
function watch(): { stop: () => Promise<void> } {
  let running = true
  const sample = async () => {
    const [m, sockets] = await Promise.all([metrics(), openSockets(victim.pid)])
    figures.maxPending = Math.max(figures.maxPending, m.cas_p2p_pending_handshakes ?? 0)
    figures.maxInbound = Math.max(figures.maxInbound, m.cas_p2p_inbound_connections ?? 0)
    figures.maxSockets = Math.max(figures.maxSockets, sockets)
  }
  // A sampling clock, not a wait for an event: the maxima are read at a steady rate while the floods run.
  const loop = (async () => {
    await sample()
    for await (const _ of every(100)) {
      if (!running) break
      await sample()
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
    },
  }
}

/** The honest node stores an object on the victim, drops its own copy and reads the victim's back. */
async function honestTransfer(): Promise<void> {
  const put = await putRandom(honest, TRANSFER_SIZE)
  expect(put.replicas).toEqual([victim.process.info.nodeId])
  await evictLocal(honest, put.cid)
  const got = await getBytes(honest, put.cid)
  figures.objectsChecked++
  figures.corruptBytes += corruptBytes(got, put.bytes)
  if (got.length === 0) figures.objectsLost++
  expect(cidOf(got)).toBe(put.cid)
}

/** A fresh node identity dials the victim once (no retries) and completes the whole handshake. */
async function newPeerJoins(): Promise<void> {
  const newcomer = new TcpTransport({ identity: await createNodeIdentity(), tls: true })
  try {
    const peer = await newcomer.dial(victim.p2p, { expectNodeId: victim.process.info.nodeId, retries: 0 })
    expect(peer.nodeId).toBe(victim.process.info.nodeId)
    figures.newPeersJoined++
  } finally {
    await newcomer.close()
  }
}

describe('connection floods against a real node', () => {
  const waves = iterations(1, 8)

  it(
    `holds ${IDLE_CONNECTIONS} idle connections and slow senders within the limits, ${waves} wave(s)`,
    async () => {
      const refusedBefore = (await metrics()).cas_p2p_inbound_refused_total ?? 0
      for (let wave = 0; wave < waves; wave++) {
        const logFrom = (await readLog(logFile)).length
        const watcher = watch()
        const started = Date.now()
        // Slow senders first; then the idle flood on top, which displaces them (oldest first).
        const slow = Array.from({ length: SLOW_SENDERS }, () => slowSender())
        const half = await Promise.all(Array.from({ length: HALF_HANDSHAKES }, () => halfHandshake()))
        const idle = await idleConnections(IDLE_CONNECTIONS)
        // An honest transfer while every handshake slot is taken by the flood, on an existing connection…
        await honestTransfer()
        // …and a new honest peer gets in: the oldest idle handshake makes room for it.
        await newPeerJoins()
        const all = [...slow.map((s) => s.tracked), ...half, ...idle]
        // Every socket the node accepted is closed by its handshake deadline.
        try {
          await until(
            'the node to close every flooding socket',
            async () => all.every((t) => t.closedAt !== undefined),
            DEFAULT_HANDSHAKE_TIMEOUT + DEADLINE_SLACK,
          )
        } catch (err) {
          const left = (ts: Tracked[]) => ts.filter((t) => t.closedAt === undefined).length
          throw new Error(
            `${(err as Error).message}; still open: slow ${left(slow.map((s) => s.tracked))}, half ${left(half)}, idle ${left(idle)}, node sockets ${await openSockets(victim.pid)}`,
          )
        } finally {
          for (const s of slow) s.stop()
          await watcher.stop()
        }
        const lifetimes = all.map((t) => (t.closedAt as number) - t.openedAt)
        const atOnce = lifetimes.filter((ms) => ms < DEFAULT_HANDSHAKE_TIMEOUT / 2).length
        figures.closedAtOnce += atOnce
        figures.heldThenClosed += all.length - atOnce
        // At most maxPendingHandshakes were held (the rest closed at once), none past the deadline.
        expect(all.length - atOnce).toBeLessThanOrEqual(DEFAULT_MAX_PENDING_HANDSHAKES)
        expect(Math.max(...lifetimes)).toBeLessThan(DEFAULT_HANDSHAKE_TIMEOUT + DEADLINE_SLACK)
        expect(Date.now() - started).toBeLessThan(120_000)
        // The node logged the refusals as a few lines with counts, not one line per socket.
        const lines = (await readLog(logFile)).slice(logFrom)
        const refusalLines = lines.filter((l) => l.msg === 'inbound connection refused: limit reached')
        expect(refusalLines.length).toBeGreaterThan(0)
        expect(refusalLines.length).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 1000) + 1)
        expect(lines.some((l) => l.msg === 'connection refused' && l.code === 'ERR_HANDSHAKE')).toBe(true)

        // More authenticated peers than the node takes.
        const attempts = DEFAULT_MAX_INBOUND_CONNECTIONS + EXTRA_PEERS
        const peerWatcher = watch()
        for (let i = 0; i < attempts; i += 16) {
          const batch = await Promise.allSettled(
            Array.from({ length: Math.min(16, attempts - i) }, () =>
              FakePeer.connect(victim.p2p, { from: nextHost() }),
            ),
          )
          for (const r of batch) {
            if (r.status === 'fulfilled') {
              fakes.push(r.value)
              figures.peersAccepted++
            } else figures.peersRefused++
          }
        }
        await honestTransfer()
        await peerWatcher.stop()
        const connectedFakes = fakes.filter((f) => f.isOpen).length
        // Past the inbound limit the node refuses sockets; below it, its connection pool (maxPeers)
        // closes the least recently used idle peers. The honest node's connection counts in both.
        expect(connectedFakes).toBeLessThanOrEqual(
          Math.min(DEFAULT_MAX_INBOUND_CONNECTIONS, DEFAULT_MAX_PEERS) - 1,
        )
        expect(connectedFakes).toBeGreaterThan(DEFAULT_MAX_PEERS / 2)
        for (const f of fakes.splice(0)) f.close()
        await until(
          'the node to drop the fake peers',
          async () => (await metrics()).cas_p2p_inbound_connections === 1,
          20_000,
        )
        expect(isAlive(victim)).toBe(true)
      }
      expect(figures.maxPending).toBeLessThanOrEqual(DEFAULT_MAX_PENDING_HANDSHAKES)
      expect(figures.maxInbound).toBeLessThanOrEqual(DEFAULT_MAX_INBOUND_CONNECTIONS)
      expect(figures.maxSockets).toBeLessThanOrEqual(DEFAULT_MAX_INBOUND_CONNECTIONS + SOCKET_SLACK)
      const refused = ((await metrics()).cas_p2p_inbound_refused_total ?? 0) - refusedBefore
      expect(refused).toBeGreaterThanOrEqual(figures.closedAtOnce - figures.peersRefused)
      const peak = await peakRss(victim.pid)
      reportFigures({
        fault: 'connection floods',
        iterations: waves,
        objectsChecked: figures.objectsChecked,
        objectsLost: figures.objectsLost,
        corruptBytesReturned: figures.corruptBytes,
        socketsOpened: figures.socketsOpened,
        connectionsRefusedAtOnce: figures.closedAtOnce,
        connectionsHeldUntilDeadline: figures.heldThenClosed,
        refusedByNode: refused,
        peersAccepted: figures.peersAccepted,
        peersRefused: figures.peersRefused,
        newPeersJoinedDuringFlood: figures.newPeersJoined,
        maxPendingHandshakes: figures.maxPending,
        maxInboundConnections: figures.maxInbound,
        maxNodeSockets: figures.maxSockets,
        peakRssMiB: Math.round((peak / 1024 / 1024) * 10) / 10,
        rssBoundMiB: RSS_BOUND / 1024 / 1024,
      })
      expect(peak).toBeLessThan(RSS_BOUND)
      expect(figures.objectsLost).toBe(0)
      expect(figures.corruptBytes).toBe(0)
    },
    60_000 + waves * 60_000,
  ) // about 20 s a wave here; the rest is room for a loaded machine

  it('takes at most maxInboundPerAddress authenticated peers from one host, and peers from elsewhere', async () => {
    const attempts = 3 * DEFAULT_MAX_INBOUND_PER_ADDRESS
    const tries = await Promise.allSettled(
      Array.from({ length: attempts }, () => FakePeer.connect(victim.p2p, { from: '127.2.2.2' })),
    )
    for (const r of tries) if (r.status === 'fulfilled') fakes.push(r.value)
    const accepted = tries.filter((r) => r.status === 'fulfilled').length
    expect(accepted).toBeLessThanOrEqual(DEFAULT_MAX_INBOUND_PER_ADDRESS)
    expect(accepted).toBeGreaterThan(0)
    // Another host is welcome while the first holds its share.
    fakes.push(await FakePeer.connect(victim.p2p, { from: '127.2.3.2' }))
    await honestTransfer()
    reportFigures({
      fault: 'many peers from one host',
      iterations: 1,
      objectsChecked: 1,
      objectsLost: figures.objectsLost,
      corruptBytesReturned: figures.corruptBytes,
      attempts,
      acceptedFromOneHost: accepted,
      maxInboundPerAddress: DEFAULT_MAX_INBOUND_PER_ADDRESS,
    })
  }, 60_000)
})
