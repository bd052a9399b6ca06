import { afterEach, describe, expect, it } from 'vitest'
import { noopLogger } from '../src/index.js'
import { Cluster, MODES, waitFor } from './helpers/cluster.js'
import { randomFile } from './helpers/data.js'

describe.each(MODES)('quota over %s', (mode) => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  it('a node over its per-owner quota refuses, and the object still reaches R holders elsewhere', async () => {
    cluster = new Cluster(mode)
    const refusals: unknown[] = []
    const logger = {
      ...noopLogger,
      warn: (obj: object, msg?: string) => {
        if (msg === 'replica refused or failed') refusals.push(obj)
      },
    }
    const owner = await cluster.add({ replication: 3, logger })
    const small = await cluster.add({ bootstrap: [owner.addr], quota: { perOwner: 150_000 } })
    for (let i = 0; i < 3; i++) await cluster.add({ bootstrap: [owner.addr] })
    await waitFor(() => owner.transport.peers().length === 4, { what: 'the owner to see 4 peers' })
    // A put picks 3 of the 4 peers at random: put until the small node took one object and refused a second
    // (over its quota), and check that every put still ends with 3 holders.
    for (let i = 0; i < 60 && refusals.length === 0; i++) {
      const res = await owner.server.put(randomFile(100_000))
      expect(res.replicas).toHaveLength(3)
      expect(res.underReplicated).toBe(false)
    }
    expect(refusals[0]).toMatchObject({ nodeId: small.server.nodeId, code: 'ERR_QUOTA' })
    expect((await small.server.status()).held).toMatchObject({ objects: 1 })
  })

  it('a node over its total limit refuses too: the put and stat say so, and repair reports it once', async () => {
    cluster = new Cluster(mode)
    const warnings: { msg: string | undefined; obj: object }[] = []
    const logger = { ...noopLogger, warn: (obj: object, msg?: string) => warnings.push({ obj, msg }) }
    const owner = await cluster.add({ replication: 1, logger })
    const full = await cluster.add({ bootstrap: [owner.addr], quota: { total: 10_000 } })
    await waitFor(() => owner.transport.peers().length === 1, { what: 'the owner to see its peer' })
    const res = await owner.server.put(randomFile(20_000))
    expect(res).toMatchObject({ replicas: [], wanted: 1, underReplicated: true })
    expect(res.refused).toEqual([
      { nodeId: full.server.nodeId, code: 'ERR_QUOTA', message: expect.any(String), at: expect.any(Number) },
    ])
    expect((await full.server.status()).held.bytes).toBe(0)
    // Repair tries the same peer at every pass; the refusal stays on the object and is logged once.
    await owner.server.repair()
    await owner.server.repair()
    const refusedLogs = warnings.filter((w) => w.msg === 'replica refused or failed')
    expect(refusedLogs).toHaveLength(1)
    expect((await owner.server.stat(res.cid)).refusals).toEqual([
      expect.objectContaining({ nodeId: full.server.nodeId, code: 'ERR_QUOTA' }),
    ])
  })
})
