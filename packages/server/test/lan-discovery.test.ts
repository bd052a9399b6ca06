import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { freeUdpPort, loopbackMulticastWorks } from '@cas/test-kit'
import makeMdns from 'multicast-dns'
import { afterEach, describe, expect, it } from 'vitest'
import { type FoundPeer, LanDiscovery, type Logger } from '../src/index.js'
import { Cluster, connectedCount, type TestNode, waitFor } from './helpers/cluster.js'

/**
 * Issue 18, item 2: nodes on one network find each other by mDNS with no address typed in; only
 * those the handshake admits (the network key, when set) stay. On 127.0.0.1 with a UDP port of the
 * test's own, so that other tests (and anything on 5353) neither hear nor disturb it.
 */

/** A free UDP port on 127.0.0.1. */

/** A logger that keeps the messages of warn lines, for the refusal a test looks for. */
function recordingLogger(): Logger & { warnings: { msg: string; obj: Record<string, unknown> }[] } {
  const warnings: { msg: string; obj: Record<string, unknown> }[] = []
  const nop = () => {}
  return {
    warnings,
    debug: nop,
    info: nop,
    error: nop,
    warn: (obj, msg) => warnings.push({ msg: msg ?? '', obj: obj as Record<string, unknown> }),
  }
}

const MULTICAST = await loopbackMulticastWorks()
if (!MULTICAST) {
  console.warn(
    '[skipped] LAN discovery tests: multicast on the loopback interface does not come back on this machine',
  )
}

describe.skipIf(!MULTICAST)('LAN discovery (mDNS)', () => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  const lan = (port: number) => new LanDiscovery({ port, interface: '127.0.0.1', logger: recordingLogger() })

  it('two nodes with no bootstrap find each other and connect', async () => {
    cluster = new Cluster('tls')
    const port = await freeUdpPort()
    const started = Date.now()
    const nodes: TestNode[] = []
    for (let i = 0; i < 2; i++) {
      nodes.push(await cluster.add({ finders: [lan(port)] }))
    }
    await waitFor(() => nodes.every((n) => connectedCount(n) === 1), { what: 'the two nodes to connect' })
    const [a, b] = nodes as [TestNode, TestNode]
    expect(a.transport.peer(b.transport.nodeId)).toBeDefined()
    console.log(
      `[figures] LAN discovery: two nodes connected ${Date.now() - started} ms after the first started`,
    )
  })

  it('refuses a node of another network that it found, and keeps those of its own', async () => {
    const key = randomBytes(32)
    cluster = new Cluster('tls')
    const port = await freeUdpPort()
    const nodes: TestNode[] = []
    const loggers = [recordingLogger(), recordingLogger(), recordingLogger()]
    const keys = [key, key, randomBytes(32)]
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await cluster.add({
          logger: loggers[i] as Logger,
          transportOptions: { networkKey: keys[i] as Uint8Array },
          finders: [lan(port)],
        }),
      )
    }
    const [a, b, outsider] = nodes as [TestNode, TestNode, TestNode]
    await waitFor(() => a.transport.peer(b.transport.nodeId) !== undefined, { what: 'A and B to connect' })
    // The outsider was found and dialled, and the handshake refused it, on both sides of the LAN.
    const refusedBy = (i: number, nodeId: string) =>
      loggers[i]?.warnings.some((w) => w.msg === 'a peer found was not admitted' && w.obj.nodeId === nodeId)
    await waitFor(() => refusedBy(0, outsider.transport.nodeId) === true, {
      what: 'A to refuse the outsider',
    })
    await waitFor(() => refusedBy(2, a.transport.nodeId) === true, {
      what: 'the outsider to be refused by A',
    })
    expect(connectedCount(outsider)).toBe(0)
    expect(a.transport.peer(outsider.transport.nodeId)).toBeUndefined()
    expect(b.transport.peer(outsider.transport.nodeId)).toBeUndefined()
  })

  it('ignores garbage, other services and its own announcement', async () => {
    cluster = new Cluster('plain')
    const port = await freeUdpPort()
    const heard: FoundPeer[] = []
    const self = { nodeId: 'a'.repeat(64), listenAddr: '127.0.0.1:4001' }
    const other = { nodeId: 'b'.repeat(64), listenAddr: '127.0.0.1:4002' }
    const listener = lan(port)
    const announcer = lan(port)
    const stranger = makeMdns({ port, interface: '127.0.0.1' })
    try {
      await listener.start(self, (p) => heard.push(p))
      // Bytes that are no DNS packet, and an announcement of another service with a node id in it.
      const raw = createSocket('udp4')
      await new Promise<void>((resolve) => raw.bind(0, '127.0.0.1', resolve))
      raw.setMulticastInterface('127.0.0.1')
      await new Promise<void>((resolve) => raw.send(randomBytes(200), port, '224.0.0.251', () => resolve()))
      await new Promise<void>((resolve) => raw.close(() => resolve()))
      const instance = `x._other._tcp.local`
      await new Promise<void>((resolve) =>
        stranger.respond(
          {
            answers: [{ name: '_other._tcp.local', type: 'PTR', data: instance }],
            additionals: [
              { name: instance, type: 'SRV', data: { port: 4003, target: 'x.local' } },
              { name: instance, type: 'TXT', data: [`id=${'c'.repeat(64)}`] },
            ],
          },
          () => resolve(),
        ),
      )
      // Then a node of the service: the listener hears it, and only it.
      await announcer.start(other, () => {})
      await waitFor(() => heard.some((p) => p.nodeId === other.nodeId), {
        what: 'the announcement to be heard',
      })
      expect(
        heard.every((p) => p.nodeId === other.nodeId && p.addr === other.listenAddr && p.via === 'lan'),
      ).toBe(true)
    } finally {
      await new Promise<void>((resolve) => stranger.destroy(() => resolve()))
      await announcer.stop()
      await listener.stop()
    }
  })
})
