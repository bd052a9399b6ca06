import { afterEach, describe, expect, it } from 'vitest'
import { Cluster } from './helpers/cluster.js'
import { randomFile } from './helpers/data.js'

describe('a get whose holders do not answer', () => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  it('fails with ERR_TIMEOUT (try again), not ERR_NOT_FOUND, within the fetch timeout', async () => {
    cluster = new Cluster('memory')
    const [a, b] = await cluster.mesh(2, { replication: 1, fetchTimeout: 500 })
    if (!a || !b) throw new Error('no nodes')
    const { cid, replicas } = await a.server.put(randomFile(10_000))
    expect(replicas).toEqual([b.server.nodeId])
    await a.server.evictLocal(cid)
    // B keeps its connection open but never answers: a paused process or a cut link.
    b.transport.handle(async (req) => {
      await new Promise((resolve) => req.signal.addEventListener('abort', resolve))
      throw new Error('the requester gave up')
    })
    const started = Date.now()
    const err = await a.server.get(cid).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ code: 'ERR_TIMEOUT', name: 'HoldersUnreachableError' })
    expect(String((err as Error).message)).toContain(b.server.nodeId.slice(0, 12))
    expect(Date.now() - started).toBeLessThan(5_000)
  })
})
