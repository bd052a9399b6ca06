import { afterEach, describe, expect, it } from 'vitest'
import { Cluster, waitFor } from './helpers/cluster.js'
import { randomFile } from './helpers/data.js'

describe('FileServer.peers figures', () => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  it('tells since when each peer is connected, the bytes exchanged and the replicas each side holds', async () => {
    cluster = new Cluster('tls')
    const before = Date.now()
    const [a, b] = await cluster.mesh(2, { replication: 1 })
    const file = randomFile(200_000)
    const { cid, replicas } = await a!.server.put(file)
    expect(replicas).toEqual([b!.server.nodeId])

    const seenByA = a!.server.peers().find((p) => p.nodeId === b!.server.nodeId)
    expect(seenByA).toMatchObject({ connected: true, ownerId: b!.server.ownerId })
    expect(seenByA!.connectedAt).toBeGreaterThanOrEqual(before)
    expect(seenByA!.bytesOut).toBeGreaterThanOrEqual(200_000)
    expect(seenByA!.holds).toEqual({ objects: 1, bytes: 200_000 })
    expect(seenByA!.heldForIt).toEqual({ objects: 0, bytes: 0 })

    const seenByB = b!.server.peers().find((p) => p.nodeId === a!.server.nodeId)
    expect(seenByB!.bytesIn).toBeGreaterThanOrEqual(200_000)
    expect(seenByB!.holds).toEqual({ objects: 0, bytes: 0 })
    expect(seenByB!.heldForIt!.objects).toBe(1)
    expect(seenByB!.heldForIt!.bytes).toBeGreaterThan(200_000)

    await a!.server.delete(cid)
    await waitFor(
      () => b!.server.peers().find((p) => p.nodeId === a!.server.nodeId)?.heldForIt?.objects === 0,
      {
        what: 'the holder to drop the replica',
      },
    )
    await cluster.stop(b!)
    await waitFor(() => a!.server.peers().find((p) => p.nodeId === b!.server.nodeId)?.connected === false, {
      what: 'a to see b gone',
    })
    expect(a!.server.peers().find((p) => p.nodeId === b!.server.nodeId)?.connectedAt).toBeUndefined()
  })
})
