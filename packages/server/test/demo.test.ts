import { afterEach, describe, expect, it } from 'vitest'
import { Cluster, MODES } from './helpers/cluster.js'
import { cidOf, randomFile, readAll } from './helpers/data.js'

describe.each(MODES)('the original demo over %s', (mode) => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  it('gets 20 files back from the network after node 3 deletes its local copies, byte for byte', async () => {
    cluster = new Cluster(mode)
    const [, , node3] = await cluster.mesh(3)
    const files = Array.from({ length: 20 }, (_, i) => randomFile(i === 0 ? 0 : 1 + ((i * 37_911) % 300_000)))
    const cids: string[] = []
    for (const [i, file] of files.entries()) {
      const res = await node3!.server.put(file, { name: `file-${i}` })
      expect(res.cid).toBe(cidOf(file))
      // The default replication (2) is what three nodes can give: healthy as set up.
      expect(res.replicas).toHaveLength(2)
      expect(res.underReplicated).toBe(false)
      cids.push(res.cid)
    }
    for (const cid of cids) expect(await node3!.server.evictLocal(cid)).toBe(true)
    for (const [i, cid] of cids.entries()) {
      expect(await node3!.server.has(cid)).toBe(false)
      const got = await node3!.server.get(cid)
      expect(got.source).not.toBe('local')
      const bytes = await readAll(got.stream)
      expect(bytes.equals(files[i]!)).toBe(true)
    }
    expect(await node3!.server.resolveName('file-7')).toBe(cids[7])
  }, 120_000)
})
