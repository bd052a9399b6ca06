import { afterEach, describe, expect, it } from 'vitest'
import { RateLimiter } from '../src/rate-limiter.js'
import { Cluster, waitFor } from './helpers/cluster.js'
import { randomFile } from './helpers/data.js'

const MiB = 1024 * 1024

describe('RateLimiter', () => {
  it('lets concurrent takers through at the rate together, and an aborted wait gives its bytes back', async () => {
    const limiter = new RateLimiter(MiB, 64 * 1024)
    const started = performance.now()
    await Promise.all([0, 1, 2, 3].map(() => limiter.take(256 * 1024)))
    // 1 MiB at 1 MiB/s with a 64 KiB burst: not before (1 MiB − 64 KiB) / (1 MiB/s).
    expect(performance.now() - started).toBeGreaterThanOrEqual(930)

    const abort = new AbortController()
    const waiting = limiter.take(100 * MiB, abort.signal)
    abort.abort(new Error('gone'))
    await expect(waiting).rejects.toThrow('gone')
    // The aborted 100 MiB is not owed: a small take soon passes.
    const t = performance.now()
    await limiter.take(1024)
    expect(performance.now() - t).toBeLessThan(500)
  })

  it('refuses a rate of 0', () => {
    expect(() => new RateLimiter(0)).toThrow(RangeError)
  })
})

describe('replicationRate', () => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  it('a put sends to its holder at the limit, and the wait on the limit does not drop the holder as stalled', async () => {
    cluster = new Cluster('memory')
    // A stall bound far shorter than the time each chunk waits on the limit.
    const [owner, holder] = await cluster.mesh(2, {
      replication: 1,
      replicationRate: 2 * MiB,
      holderStall: 200,
    })
    const started = performance.now()
    const res = await owner!.server.put(randomFile(4 * MiB))
    const elapsed = performance.now() - started
    expect(res.replicas).toEqual([holder!.server.nodeId])
    expect(res.underReplicated).toBe(false)
    // 4 MiB (and framing) at 2 MiB/s with a 512 KiB burst: at least 1.75 s.
    expect(elapsed).toBeGreaterThanOrEqual(1_700)
  })

  it('repair sends a replica at the limit too', async () => {
    cluster = new Cluster('memory')
    const owner = await cluster.add({ replication: 1, replicationRate: 2 * MiB })
    const res = await owner.server.put(randomFile(3 * MiB))
    expect(res.underReplicated).toBe(true)
    const holder = await cluster.add({ bootstrap: [owner.addr] })
    await waitFor(() => owner.transport.peers().length === 1, { what: 'the owner to see its peer' })
    const started = performance.now()
    await owner.server.repair()
    const elapsed = performance.now() - started
    expect((await owner.server.stat(res.cid)).holders.map((h) => h.nodeId)).toEqual([holder.server.nodeId])
    // 3 MiB at 2 MiB/s with a 512 KiB burst: at least 1.25 s.
    expect(elapsed).toBeGreaterThanOrEqual(1_200)
  })
})
