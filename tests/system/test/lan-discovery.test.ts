import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { PeerListSchema } from '@cas/api'
import { type ClusterNode, freeUdpPort, LocalCluster, loopbackMulticastWorks, until } from '@cas/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { readLog } from '../src/node-log.js'
import { reportFigures } from '../src/suite-mode.js'

/**
 * Issue 18, item 2: node processes on one network find each other by mDNS, with no bootstrap
 * address, and a node with another network key that they find this way is refused. On 127.0.0.1
 * (multicast on loopback works here: the nodes multicast on the interface of their listen address),
 * with a UDP port of the test's own so that nothing else on the machine takes part.
 */

async function connectedIds(node: ClusterNode): Promise<string[]> {
  const peers = await node.client.json(PeerListSchema, 'GET', '/v1/peers')
  return peers.filter((p) => p.connected).map((p) => p.nodeId)
}

const MULTICAST = await loopbackMulticastWorks()
if (!MULTICAST) {
  console.warn(
    '[skipped] LAN discovery tests: multicast on the loopback interface does not come back on this machine',
  )
}

describe.skipIf(!MULTICAST)('LAN discovery between node processes', () => {
  let cluster: LocalCluster | undefined
  afterEach(async () => {
    await cluster?.stop()
    cluster = undefined
  })

  it('two nodes with no bootstrap find each other; one with another network key is refused', async () => {
    const port = String(await freeUdpPort())
    const key = randomBytes(32).toString('hex')
    cluster = new LocalCluster({ args: ['--lan-discovery', 'true', '--lan-discovery-port', port] })
    const started = Date.now()
    const a = await cluster.add({ name: 'a', bootstrap: [], args: ['--network-key', key] })
    const b = await cluster.add({ name: 'b', bootstrap: [], args: ['--network-key', key] })
    await until(
      'a and b to find each other',
      async () => (await connectedIds(a)).includes(b.process.info.nodeId),
      20_000,
    )
    const meshMs = Date.now() - started
    expect(await connectedIds(b)).toEqual([a.process.info.nodeId])

    const outsider = await cluster.add({
      name: 'outsider',
      bootstrap: [],
      args: ['--network-key', randomBytes(32).toString('hex')],
    })
    const outsiderId = outsider.process.info.nodeId
    // Found (the log says it was dialled because of the LAN) and refused, by both a and b.
    const dir = await cluster.dir()
    const refused = async (name: string, nodeId: string) =>
      (await readLog(join(dir, `${name}.log`))).some(
        (l) => l.msg === 'a peer found was not admitted' && l.via === 'lan' && l.nodeId === nodeId,
      )
    await until('a to refuse the outsider it found', () => refused('a', outsiderId), 20_000)
    await until('b to refuse the outsider it found', () => refused('b', outsiderId), 20_000)
    await until('the outsider to be refused by a', () => refused('outsider', a.process.info.nodeId), 20_000)
    expect(await connectedIds(a)).toEqual([b.process.info.nodeId])
    expect(await connectedIds(b)).toEqual([a.process.info.nodeId])
    expect(await connectedIds(outsider)).toEqual([])
    reportFigures({
      fault: 'LAN discovery (mDNS on loopback)',
      iterations: 1,
      objectsChecked: 0,
      objectsLost: 0,
      corruptBytesReturned: 0,
      msToFindEachOther: meshMs,
    })
  })
})
