import { afterEach, describe, expect, it } from 'vitest'
import type { TransferEvent } from '../src/index.js'
import { Cluster } from './helpers/cluster.js'
import { randomFile } from './helpers/data.js'

describe('a put and repair of the same object', () => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  it('repair does not send a second replica while the put is still sending the first', async () => {
    cluster = new Cluster('memory')
    // Repair runs every few ms with no grace: before the fix it saw the object listed with no holders
    // while the put was replicating, and sent the same replica to the same peers a second time.
    const nodes = await cluster.mesh(3, { replication: 2, repairInterval: 5, repairGrace: 0 })
    const [owner, ...peers] = nodes
    if (!owner) throw new Error('no owner')
    const size = 48 * 1024 * 1024
    const received = new Map<string, number>()
    for (const peer of peers) {
      peer.server.on('transfer', (e: TransferEvent) => {
        // Replicas of this object only: the owner's catalogue segments (small objects it puts as its
        // catalogue changes) go to the same peers, and may or may not do so while this test runs.
        if (e.direction === 'in' && e.kind === 'replica' && e.bytes >= size) {
          received.set(peer.server.nodeId, (received.get(peer.server.nodeId) ?? 0) + 1)
        }
      })
    }
    const repairs: number[] = []
    owner.server.on('repair', (s) => repairs.push(s.repairing))
    const put = await owner.server.put(randomFile(size))
    expect(put.replicas).toHaveLength(2)
    // Repair passes ran during the put, and more run after it: none of them sends anything again.
    expect(repairs.length).toBeGreaterThan(0)
    const status = await owner.server.repair()
    expect(status).toMatchObject({ healthy: 1, underReplicated: 0 })
    expect([...received.values()]).toEqual([1, 1])
  })
})
