import { deriveOwnerSecrets, locatorOf } from '@cas/crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { rankNodes } from '../src/index.js'
import { Cluster, MODES, waitFor } from './helpers/cluster.js'
import { randomFile, sha256 } from './helpers/data.js'

describe.each(MODES)('quota over %s', (mode) => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  it('a node over its per-owner quota refuses, and the object still reaches R holders elsewhere', async () => {
    cluster = new Cluster(mode)
    const owner = await cluster.add({ replication: 3 })
    const small = await cluster.add({ bootstrap: [owner.addr], quota: { perOwner: 150_000 } })
    for (let i = 0; i < 3; i++) await cluster.add({ bootstrap: [owner.addr] })
    await waitFor(() => owner.transport.peers().length === 4, { what: 'the owner to see 4 peers' })
    const peerIds = owner.transport.peers().map((p) => p.nodeId)
    const secrets = deriveOwnerSecrets(owner.ownerKey)
    // Content that ranks the small node among the 3 first holders, so it is asked and must refuse.
    const pick = () => {
      for (;;) {
        const file = randomFile(100_000)
        if (
          rankNodes(locatorOf(secrets, sha256(file)), peerIds)
            .slice(0, 3)
            .includes(small.server.nodeId)
        )
          return file
      }
    }
    const first = await owner.server.put(pick())
    expect(first.replicas).toContain(small.server.nodeId)
    const second = await owner.server.put(pick())
    expect(second.replicas).toHaveLength(3)
    expect(second.replicas).not.toContain(small.server.nodeId)
    expect(second.underReplicated).toBe(false)
    expect((await small.server.status()).held).toMatchObject({ objects: 1 })
  })

  it('a node over its total limit refuses too', async () => {
    cluster = new Cluster(mode)
    const owner = await cluster.add({ replication: 1 })
    const full = await cluster.add({ bootstrap: [owner.addr], quota: { total: 10_000 } })
    await waitFor(() => owner.transport.peers().length === 1, { what: 'the owner to see its peer' })
    const res = await owner.server.put(randomFile(20_000))
    expect(res).toMatchObject({ replicas: [], wanted: 1, underReplicated: true })
    expect((await full.server.status()).held.bytes).toBe(0)
  })
})
