import { afterEach, describe, expect, it } from 'vitest'
import { Cluster, connectedCount, waitFor } from './helpers/cluster.js'
import { randomFile } from './helpers/data.js'

describe('catalogue', () => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  it('lists objects with their names, sizes and acknowledged holders', async () => {
    cluster = new Cluster('memory')
    const [a, b] = await cluster.mesh(2, { replication: 1 })
    const one = await a!.server.put(randomFile(1_000), { name: 'one.txt' })
    const two = await a!.server.put(randomFile(2_000), { name: 'two.txt' })
    await a!.server.put(randomFile(1_000).fill(0), { name: 'zeros' })
    const listed = await a!.server.list()
    expect(listed).toHaveLength(3)
    expect(listed.find((o) => o.cid === two.cid)).toMatchObject({
      size: 2_000,
      names: ['two.txt'],
      local: true,
      wanted: 1,
      holders: [{ nodeId: b!.server.nodeId, live: true }],
    })
    expect(await a!.server.stat(one.cid)).toMatchObject({ names: ['one.txt'], size: 1_000 })
    await expect(a!.server.stat('f'.repeat(64))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
    await expect(a!.server.stat('not-an-id')).rejects.toMatchObject({ code: 'ERR_INVALID_ID' })
  })

  it('keeps the replication an object was put with across a get from the network and a repair', async () => {
    cluster = new Cluster('memory')
    const [a] = await cluster.mesh(4, { replication: 3 })
    const data = randomFile(50_000)
    const put = await a!.server.put(data, { name: 'one-copy', replication: 1 })
    expect(put).toMatchObject({ wanted: 1, underReplicated: false })
    expect(await a!.server.evictLocal(put.cid)).toBe(true)
    const got = await a!.server.get(put.cid)
    const chunks: Buffer[] = []
    for await (const c of got.stream) chunks.push(c as Buffer)
    expect(Buffer.concat(chunks).equals(data)).toBe(true)
    await a!.server.repair()
    const info = await a!.server.stat(put.cid)
    expect(info).toMatchObject({ wanted: 1, names: ['one-copy'] })
    expect(info.holders).toHaveLength(1)
  })

  it('records when each holder last proved its replica good: at the put, then at every repair probe', async () => {
    cluster = new Cluster('memory')
    const [a, b] = await cluster.mesh(2, { replication: 1 })
    const { cid } = await a!.server.put(randomFile(4_000))
    const atPut = (await a!.server.stat(cid)).holders
    expect(atPut).toEqual([{ nodeId: b!.server.nodeId, live: true, provenAt: expect.any(Number) }])
    const first = atPut[0]?.provenAt as number
    await waitFor(() => Date.now() > first, { what: 'the clock to move' })
    await a!.server.repair()
    const [again] = (await a!.server.stat(cid)).holders
    expect(again?.provenAt).toBeGreaterThan(first)
  })

  it('is rebuilt from the store and the log: owned objects with their names, and replicas held for others with the quota usage', async () => {
    cluster = new Cluster('memory')
    const [a, b] = await cluster.mesh(2, { replication: 1 })
    const put = await a!.server.put(randomFile(3_000), { name: 'kept' })
    // The catalogue's segment (an object of A's, replicated to B) and its head (held by B).
    expect(await a!.server.publishCatalogue()).toBe(1)
    const heldBefore = (await b!.server.status()).held
    expect(await a!.server.rebuildCatalogue()).toEqual({ objects: 2, held: 0 })
    expect(await b!.server.rebuildCatalogue()).toEqual({ objects: 0, held: 2 })
    expect((await b!.server.status()).held).toEqual(heldBefore)
    // The segment is still not listed, and the name came back from the log.
    expect((await a!.server.list()).map((o) => o.cid)).toEqual([put.cid])
    const info = await a!.server.stat(put.cid)
    expect(info).toMatchObject({ size: 3_000, local: true, names: ['kept'] })
    // Holders are forgotten by a rebuild; a repair pass asks the ranked peers and learns them back.
    expect(info.holders).toEqual([])
    await a!.server.repair()
    expect((await a!.server.stat(put.cid)).holders).toEqual([
      { nodeId: b!.server.nodeId, live: true, provenAt: expect.any(Number) },
    ])
  })

  it('survives a restart: a new FileServer on the same folder knows its objects', async () => {
    cluster = new Cluster('memory')
    const a = await cluster.add()
    const { cid } = await a.server.put(randomFile(500), { name: 'persisted' })
    await cluster.stop(a)
    const again = await cluster.add({ ownerKey: a.ownerKey, dataDir: a.dataDir })
    expect(await again.server.resolveName('persisted')).toBe(cid)
    expect(await again.server.stat(cid)).toMatchObject({ size: 500, local: true, names: ['persisted'] })
  })

  it('reconnects after a restart to the peers in its peer book, without a bootstrap address', async () => {
    cluster = new Cluster('memory')
    const [a, , c] = await cluster.mesh(3)
    await cluster.stop(c!)
    const again = await cluster.add({ ownerKey: c!.ownerKey, dataDir: c!.dataDir })
    await waitFor(() => connectedCount(again) === 2, { what: 'the restarted node to reconnect' })
    expect(again.transport.peer(a!.server.nodeId)).toBeDefined()
  })
})
