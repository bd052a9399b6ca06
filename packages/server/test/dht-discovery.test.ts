import { randomBytes } from 'node:crypto'
import HyperDHT from 'hyperdht'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { afterEach, describe, expect, it } from 'vitest'
import {
  DhtDiscovery,
  type DhtDiscoveryOptions,
  decodeDhtRecord,
  dhtTopic,
  encodeDhtRecord,
  type FoundPeer,
  type Logger,
  MAX_DHT_KEYS_PER_LOOKUP,
  MAX_DHT_RECORD_BYTES,
  type PeerFinder,
} from '../src/index.js'
import { Cluster, connectedCount, type TestNode, waitFor } from './helpers/cluster.js'

/**
 * Issue 18, item 3: nodes find each other on hyperdht by the topic of their network, with no cas
 * bootstrap between them. Each test runs hyperdht's own testnet, bound to 127.0.0.1, and every DHT
 * node of the test is given its bootstrap and bound to 127.0.0.1 too: nothing leaves loopback, and
 * the public DHT nodes hyperdht falls back to without a bootstrap are never asked.
 */

/** Every log line of every logger made by one test, in order, so one line can be known to follow another. */
type Line = { who: string; level: string; msg: string; obj: Record<string, unknown> }
let lines: Line[] = []

function recordingLogger(who: string): Logger {
  const at = (level: string) => (obj: object, msg?: string) =>
    void lines.push({ who, level, msg: msg ?? '', obj: obj as Record<string, unknown> })
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** The index of the first line of `who` with message `msg` (and fields `obj`) after index `from`, or -1. */
function lineAfter(from: number, who: string, msg: string, obj: Record<string, unknown> = {}): number {
  return lines.findIndex(
    (l, i) =>
      i > from && l.who === who && l.msg === msg && Object.entries(obj).every(([k, v]) => l.obj[k] === v),
  )
}

/**
 * Whether `who` has started and finished a lookup (not the one an announcement makes) after line
 * `from`: lookups never overlap, so the second to end after it began after it.
 */
function lookedUpAfter(from: number, who: string): boolean {
  const first = lineAfter(from, who, LOOKED_UP, { kind: 'lookup' })
  return first >= 0 && lineAfter(first, who, LOOKED_UP, { kind: 'lookup' }) >= 0
}

const ANNOUNCED = 'DHT discovery: announced'
const LOOKED_UP = 'DHT discovery: lookup done'

/** A finder that remembers the node ids its inner finder reported. */
class Spy implements PeerFinder {
  readonly name: string
  readonly seen = new Set<string>()
  constructor(readonly inner: PeerFinder) {
    this.name = inner.name
  }
  start(self: { nodeId: string; listenAddr: string }, found: (peer: FoundPeer) => void): Promise<void> {
    return this.inner.start(self, (peer) => {
      if (peer.nodeId !== undefined) this.seen.add(peer.nodeId)
      found(peer)
    })
  }
  stop(): Promise<void> {
    return this.inner.stop()
  }
}

describe('DHT discovery (hyperdht)', () => {
  let testnet: Testnet
  let bootstrap: string[]
  let cluster: Cluster | undefined
  const cleanups: (() => Promise<void>)[] = []

  async function startTestnet(): Promise<void> {
    lines = []
    testnet = await createTestnet(3, { host: '127.0.0.1' })
    bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`)
    expect(testnet.nodes.every((n) => n.address().host === '127.0.0.1')).toBe(true)
    expect(bootstrap.every((b) => b.startsWith('127.0.0.1:'))).toBe(true)
  }

  const dht = (who: string, extra: Partial<DhtDiscoveryOptions> = {}) =>
    new DhtDiscovery({
      bootstrap,
      host: '127.0.0.1',
      lookupInterval: 300,
      logger: recordingLogger(who),
      ...extra,
    })

  afterEach(async () => {
    await cluster?.close()
    cluster = undefined
    for (const c of cleanups.splice(0).reverse()) await c()
    await testnet.destroy()
  })

  it('three nodes with no bootstrap between them find each other by topic and connect', async () => {
    await startTestnet()
    cluster = new Cluster('tls')
    const started = Date.now()
    const spies: Spy[] = []
    const nodes: TestNode[] = []
    for (let i = 0; i < 3; i++) {
      const spy = new Spy(dht(`node${i}`))
      spies.push(spy)
      nodes.push(await cluster.add({ finders: [spy] }))
    }
    await waitFor(() => nodes.every((n) => connectedCount(n) === 2), { what: 'a full mesh of three' })
    // Each node's DHT finder named both others: the mesh came from the topic, not from gossip alone.
    const ids = nodes.map((n) => n.transport.nodeId)
    await waitFor(() => spies.every((s, i) => ids.every((id, j) => i === j || s.seen.has(id))), {
      what: 'every finder to report both other nodes',
    })
    expect(spies.every((s, i) => !s.seen.has(ids[i] as string))).toBe(true)
    console.log(`[figures] DHT discovery: a mesh of three ${Date.now() - started} ms after the first started`)
  })

  it('a node of another network announces under another topic: it is neither found nor finds', async () => {
    await startTestnet()
    const key = randomBytes(32)
    const other = randomBytes(32)
    const c = new Cluster('tls')
    cluster = c
    const node = async (who: string, networkKey: Uint8Array) => {
      const spy = new Spy(dht(who, { networkKey }))
      return { spy, node: await c.add({ transportOptions: { networkKey }, finders: [spy] }) }
    }
    const outsider = await node('outsider', other)
    const a = await node('a', key)
    const b = await node('b', key)
    await waitFor(() => a.node.transport.peer(b.node.transport.nodeId) !== undefined, {
      what: 'A and B to connect',
    })
    // Each side looked the topic up after the other side had announced, and found nothing there.
    const who = ['a', 'b', 'outsider']
    await waitFor(() => who.every((w) => lineAfter(-1, w, ANNOUNCED) >= 0), {
      what: 'every node to announce',
    })
    const after = Math.max(...who.map((w) => lineAfter(-1, w, ANNOUNCED)))
    await waitFor(() => who.every((w) => lookedUpAfter(after, w)), {
      what: 'every node to look the topic up after all announced',
    })
    expect(outsider.spy.seen.size).toBe(0)
    expect(a.spy.seen.has(outsider.node.transport.nodeId)).toBe(false)
    expect(b.spy.seen.has(outsider.node.transport.nodeId)).toBe(false)
    expect(connectedCount(outsider.node)).toBe(0)
    expect(dhtTopic(key).equals(dhtTopic(other))).toBe(false)
  })

  it('drops keys and records from the DHT that are not a cas node', async () => {
    await startTestnet()
    // A DHT client of someone else's: it announces keys under the public cas topic with bad records.
    const rogue = new HyperDHT({ bootstrap, host: '127.0.0.1', ephemeral: true })
    cleanups.push(() => rogue.destroy({ force: true }))
    await rogue.fullyBootstrapped()
    const topic = dhtTopic()
    const bad = [
      Buffer.from(JSON.stringify({ v: 1, addr: 'no-port', nodeId: 'c'.repeat(64) })),
      Buffer.from(JSON.stringify({ v: 1, addr: '127.0.0.1:4003', nodeId: 'not-an-id' })),
      Buffer.from(JSON.stringify({ v: 1, addr: '0.0.0.0:4004', nodeId: 'd'.repeat(64) })),
      randomBytes(100),
      undefined,
    ]
    for (const value of bad) {
      const keyPair = HyperDHT.keyPair()
      if (value) await rogue.mutablePut(keyPair, value)
      await rogue.announce(topic, keyPair, []).finished()
    }
    const heard: FoundPeer[] = []
    const self = { nodeId: 'a'.repeat(64), listenAddr: '127.0.0.1:4001' }
    const other = { nodeId: 'b'.repeat(64), listenAddr: '127.0.0.1:4002' }
    const listener = dht('listener')
    const announcer = dht('announcer')
    cleanups.push(
      () => listener.stop(),
      () => announcer.stop(),
    )
    await listener.start(self, (p) => heard.push(p))
    await announcer.start(other, () => {})
    await waitFor(() => heard.some((p) => p.nodeId === other.nodeId), { what: 'the announcer to be found' })
    // A lookup that starts after the announcer was found reads every key of the topic.
    const at = lines.length - 1
    await waitFor(() => lookedUpAfter(at, 'listener'), { what: 'one more lookup' })
    const done = lines.filter((l, i) => i > at && l.who === 'listener' && l.obj.kind === 'lookup')
    expect(done[1]?.obj).toMatchObject({ keys: bad.length + 1, reported: 1 })
    expect(heard.length).toBeGreaterThan(0)
    expect(
      heard.every((p) => p.nodeId === other.nodeId && p.addr === other.listenAddr && p.via === 'dht'),
    ).toBe(true)
  })

  it('withdraws its announcement when it stops', async () => {
    await startTestnet()
    const probe = new HyperDHT({ bootstrap, host: '127.0.0.1', ephemeral: true })
    cleanups.push(() => probe.destroy({ force: true }))
    const announced = async () => {
      let n = 0
      for await (const reply of probe.lookup(dhtTopic())) n += (reply as { peers: unknown[] }).peers.length
      return n
    }
    const node = dht('node')
    await node.start({ nodeId: 'a'.repeat(64), listenAddr: '127.0.0.1:4001' }, () => {})
    await waitFor(async () => (await announced()) > 0, { what: 'the announcement' })
    await node.stop()
    expect(await announced()).toBe(0)
  })

  it(`reads at most ${MAX_DHT_KEYS_PER_LOOKUP} keys of one lookup`, async () => {
    await startTestnet()
    const rogue = new HyperDHT({ bootstrap, host: '127.0.0.1', ephemeral: true })
    cleanups.push(() => rogue.destroy({ force: true }))
    await rogue.fullyBootstrapped()
    const topic = dhtTopic()
    // More than the bound; each testnet node returns a random 20 of them for the topic.
    for (let i = 0; i < MAX_DHT_KEYS_PER_LOOKUP * 2; i++) {
      await rogue.announce(topic, HyperDHT.keyPair(), []).finished()
    }
    const listener = dht('listener')
    cleanups.push(() => listener.stop())
    await listener.start({ nodeId: 'a'.repeat(64), listenAddr: '127.0.0.1:4001' }, () => {})
    const looked = () => lines.filter((l) => l.who === 'listener' && l.msg === LOOKED_UP)
    await waitFor(() => looked().some((l) => l.obj.keys === MAX_DHT_KEYS_PER_LOOKUP), {
      what: 'a lookup that reaches the bound',
    })
    expect(looked().every((l) => (l.obj.keys as number) <= MAX_DHT_KEYS_PER_LOOKUP)).toBe(true)
  })
})

describe('DHT discovery options and records', () => {
  const logger = recordingLogger('units')

  it('refuses to start without a bootstrap of the user: there is no public default', () => {
    expect(() => new DhtDiscovery({ bootstrap: [], logger })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    )
    expect(() => new DhtDiscovery({ bootstrap: ['127.0.0.1'], logger })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    )
    expect(() => new DhtDiscovery({ bootstrap: ['127.0.0.1:1'], lookupInterval: 0, logger })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    )
  })

  it('derives the topic from the network key, else from a public label', () => {
    const key = randomBytes(32)
    expect(dhtTopic(key)).toHaveLength(32)
    expect(dhtTopic(key).equals(dhtTopic(Buffer.from(key)))).toBe(true)
    expect(dhtTopic(key).equals(dhtTopic())).toBe(false)
    expect(dhtTopic().equals(dhtTopic())).toBe(true)
  })

  it('reads a record back, and drops every value that is not a well-formed record', () => {
    const good = { addr: '127.0.0.1:4001', nodeId: 'a'.repeat(64) }
    expect(decodeDhtRecord(encodeDhtRecord(good))).toEqual(good)
    expect(decodeDhtRecord(encodeDhtRecord({ addr: '[::1]:4001', nodeId: good.nodeId }))).toBeDefined()
    expect(decodeDhtRecord(encodeDhtRecord({ addr: 'node.example:4001', nodeId: good.nodeId }))).toBeDefined()
    const json = (v: unknown) => Buffer.from(JSON.stringify(v))
    const dropped: unknown[] = [
      encodeDhtRecord({ addr: '127.0.0.1', nodeId: good.nodeId }),
      encodeDhtRecord({ addr: '127.0.0.1:0', nodeId: good.nodeId }),
      encodeDhtRecord({ addr: '127.0.0.1:70000', nodeId: good.nodeId }),
      encodeDhtRecord({ addr: 'a b:4001', nodeId: good.nodeId }),
      encodeDhtRecord({ addr: '0.0.0.0:4001', nodeId: good.nodeId }),
      encodeDhtRecord({ addr: `${'h'.repeat(400)}:1`, nodeId: good.nodeId }),
      encodeDhtRecord({ addr: good.addr, nodeId: 'a'.repeat(63) }),
      encodeDhtRecord({ addr: good.addr, nodeId: 'A'.repeat(64) }),
      encodeDhtRecord({ addr: good.addr, nodeId: 'g'.repeat(64) }),
      json({ v: 2, addr: good.addr, nodeId: good.nodeId }),
      json({ addr: good.addr }),
      json([good]),
      // Well-formed but for its size: JSON allows the trailing spaces.
      Buffer.from(`${JSON.stringify({ v: 1, ...good })}${' '.repeat(MAX_DHT_RECORD_BYTES)}`),
      Buffer.from('not json'),
      Buffer.alloc(0),
      JSON.stringify({ v: 1, ...good }),
      { v: 1, ...good },
      null,
      undefined,
    ]
    for (const value of dropped) expect(decodeDhtRecord(value)).toBeUndefined()
  })
})
