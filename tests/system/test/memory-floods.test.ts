import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { type ClusterNode, LocalCluster } from '@cas/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { untilConnectedPeers } from '../src/connected-peers.js'
import { FakePeer } from '../src/fake-peer.js'
import { evictLocal, getBytes } from '../src/object-io.js'
import { currentRss, peakRss } from '../src/process-memory.js'
import { signedCommit, storeBody, storeRecords } from '../src/signed-bodies.js'
import { amount, reportFigures } from '../src/suite-mode.js'
import { cidOf, corruptBytes, isAlive, putRandom } from './helpers/objects.js'

/**
 * Promise: what one peer can make a node hold in memory is bounded, per connection and for the
 * node, whatever it sends. The attack (issue 14, item 1), from 4 authenticated fake peers on the
 * real wire protocol against a real node process: each opens `n` streamed stores and sends the
 * protocol's whole 4 MiB window for each without ending it, asks `n` times for the chunks of a
 * replica it stored, then stops reading its socket (so no answer or credit leaves the node's
 * buffers) and keeps pinging so that it is not dropped as idle. The node must refuse what is over
 * its budgets, drop the connections that read nothing past its deadline, stay within an RSS bound,
 * and serve an honest peer afterwards.
 */

const CONNECTIONS = 4
/** The protocol's initial stream window (packages/p2p STREAM_WINDOW): what a sender may send unasked. */
const WINDOW = 4 * 1024 * 1024
const PIECE = 1024 * 1024
/** The victim's request timeout here: short, so the attack outlives it several times in a bounded run. */
const REQUEST_TIMEOUT_MS = 4_000
/** How long the attack is held after it is sent, while the victim's RSS is sampled. */
const HOLD_MS = amount(3, 10) * REQUEST_TIMEOUT_MS
/**
 * Peak RSS allowed: ~100 MiB at rest, the node-wide inbound budget (128 MiB by default), the capped
 * streamed answers (16 per connection, each up to a chunk read and a chunk unsent) and room.
 */
const RSS_BOUND = 400 * 1024 * 1024
/** A replica of this many 1 MiB chunks, stored by the first fake peer and fetched by all. */
const REPLICA_CHUNKS = 3
/**
 * Fetches each fake sends after it stops reading: more answer bytes (12 MiB) than loopback's socket
 * buffers take, so every fake leaves the node a write that waits (else a fake that read all its
 * answers before it stopped reading costs nothing and is, rightly, kept).
 */
const LATE_FETCHES = 4

const clusters: LocalCluster[] = []
const fakes: FakePeer[] = []

afterEach(async () => {
  for (const f of fakes.splice(0)) f.close()
  for (const c of clusters.splice(0)) await c.stop()
})

/** A store upload that fills one window: record heads and ciphertext-like bytes the node writes as it reads. */
function windowOfRecords(): Buffer[] {
  const data = Buffer.alloc(WINDOW)
  let at = 0
  while (at + 5 < WINDOW) {
    const len = Math.min(PIECE, WINDOW - at - 5)
    data[at] = 1
    data.writeUInt32BE(PIECE, at + 1) // claims a full chunk: the record never ends within the window
    randomBytes(len).copy(data, at + 5)
    at += 5 + len
  }
  return Array.from({ length: WINDOW / PIECE }, (_, i) => data.subarray(i * PIECE, (i + 1) * PIECE))
}

async function attack(victim: ClusterNode, perConnection: number) {
  const first = await FakePeer.connect(victim.p2p)
  fakes.push(first)
  const chunks = Array.from({ length: REPLICA_CHUNKS }, () => randomBytes(PIECE))
  const locator = randomBytes(32).toString('hex')
  const signed = signedCommit(first.owner, { ownerId: first.owner.ownerId, locator, chunks })
  const stored = await first.request(storeBody(first.owner.ownerId), { data: storeRecords(chunks, signed) })
  expect(stored).toMatchObject({ kind: 'res', body: { stored: true } })
  for (let i = 1; i < CONNECTIONS; i++) fakes.push(await FakePeer.connect(victim.p2p))
  const fetch = {
    op: 'fetch',
    v: 2,
    ownerId: first.owner.ownerId,
    locator,
    part: 'chunks',
    first: 0,
    count: REPLICA_CHUNKS,
  }
  const upload = windowOfRecords()
  await Promise.all(
    fakes.map(async (f) => {
      for (let i = 0; i < perConnection; i++) {
        await f.openUpload(storeBody(f.owner.ownerId), upload)
        await f.write({ type: 'req', id: f.takeRequestId(), body: fetch, stream: false })
      }
      f.stopReading()
      // Answers sent while the fake still read are gone from the node's buffers; these few more,
      // asked once it reads nothing, are what its write deadline must not hold on to.
      for (let i = 0; i < LATE_FETCHES; i++) {
        await f.write({ type: 'req', id: f.takeRequestId(), body: fetch, stream: false })
      }
    }),
  )
}

/** Samples the victim's RSS while the attack is held, pinging from every fake that is still connected. */
async function hold(victim: ClusterNode): Promise<{ atEndMiB: number; openAtEnd: number }> {
  const deadline = Date.now() + HOLD_MS
  let ping = 0
  while (Date.now() < deadline) {
    for (const f of fakes) if (f.isOpen) f.sendMessage({ type: 'ping', n: ping++ })
    await delay(250)
  }
  return { atEndMiB: mib(await currentRss(victim.pid)), openAtEnd: fakes.filter((f) => f.isOpen).length }
}

const mib = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10

describe('memory floods against a real node', () => {
  for (const perConnection of [64, 256]) {
    it(
      `holds its RSS under ${RSS_BOUND / 1024 / 1024} MiB when ${CONNECTIONS} peers each open ${perConnection} window-sized uploads and ${perConnection} unread answers`,
      async () => {
        const cluster = new LocalCluster({
          args: ['--replication', '1', '--request-timeout', String(REQUEST_TIMEOUT_MS)],
        })
        clusters.push(cluster)
        const victim = await cluster.add({ name: 'victim' })
        const honest = await cluster.add({ name: 'honest' })
        await untilConnectedPeers(victim, 1, 20_000)
        const atRest = mib(await currentRss(victim.pid))
        await attack(victim, perConnection)
        const held = await hold(victim)
        const peak = await peakRss(victim.pid)
        expect(isAlive(victim)).toBe(true)
        // The victim still serves: an honest put lands on it and comes back through it.
        const fresh = await putRandom(honest, 256 * 1024)
        expect(fresh.replicas).toEqual([victim.process.info.nodeId])
        await evictLocal(honest, fresh.cid)
        const got = await getBytes(honest, fresh.cid)
        expect(cidOf(got)).toBe(fresh.cid)
        reportFigures({
          fault: `memory flood ${CONNECTIONS}x${perConnection}`,
          iterations: 1,
          objectsChecked: 1,
          objectsLost: 0,
          corruptBytesReturned: corruptBytes(got, fresh.bytes),
          connections: CONNECTIONS,
          requestsPerConnection: perConnection * 2 + LATE_FETCHES,
          victimRssAtRestMiB: atRest,
          victimPeakRssMiB: mib(peak),
          victimRssAtEndMiB: held.atEndMiB,
          attackersStillConnected: held.openAtEnd,
          rssBoundMiB: RSS_BOUND / 1024 / 1024,
        })
        expect(peak).toBeLessThan(RSS_BOUND)
        // Peers that read nothing are dropped once the node's writes to them stall past its deadline.
        expect(held.openAtEnd).toBe(0)
      },
      120_000 + HOLD_MS,
    )
  }
})
