import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { deriveOwnerSecrets, locatorOf } from '@cas/crypto'
import { Store } from '@cas/store'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_PACK_BELOW } from '../src/index.js'
import { Cluster, type TestNode, waitFor } from './helpers/cluster.js'
import { randomFile, readAll } from './helpers/data.js'

/**
 * Issue 13: small objects live in the stores' packs, on the owner and on the holders, and everything
 * that works on a replica file works on a packed one: gets from holders, deletes, verify and
 * scrub finding damage, repair sending it again.
 */

let cluster: Cluster
afterEach(async () => {
  await cluster.close()
})

/** Files under a store folder other than packs and temporaries: the objects that got a file. */
async function objectFiles(dataDir: string): Promise<string[]> {
  const root = join(dataDir, 'store')
  const all = await readdir(root, { recursive: true, withFileTypes: true })
  return all
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .filter((f) => !f.startsWith('.packs/') && !f.startsWith('.tmp/'))
}

describe('packed replicas', () => {
  it('stores small objects in packs on owner and holders; gets, deletes and verifies them', async () => {
    cluster = new Cluster('memory')
    // No catalogue segment is published while it counts: each would be two more replicas held.
    const options = { replication: 2, cataloguePublishDelay: 60_000 }
    const [a, b, c] = (await cluster.mesh(3, options)) as [TestNode, TestNode, TestNode]
    const objects = Array.from({ length: 40 }, (_, i) => randomFile(500 + i * 1_000))
    // Eight at a time, as `cas put -r` sends them: each shares the holders' fsyncs with the others.
    const puts = []
    for (let i = 0; i < objects.length; i += 8) {
      puts.push(...(await Promise.all(objects.slice(i, i + 8).map((o) => a.server.put(o)))))
    }
    for (const p of puts) expect(p.replicas.length, JSON.stringify(p)).toBe(2)
    const big = await a.server.put(randomFile(DEFAULT_PACK_BELOW * 2))
    // One file on each node: the large object's (the owner's copy, and a replica on each holder).
    for (const node of [a, b, c]) expect((await objectFiles(node.dataDir)).length).toBe(1)
    // Read from the holders once the owner's copies are gone.
    for (const [i, p] of puts.entries()) {
      await a.server.evictLocal(p.cid)
      expect((await readAll((await a.server.get(p.cid)).stream)).equals(objects[i] as Buffer)).toBe(true)
    }
    expect((await b.server.verify()).held.checked + (await c.server.verify()).held.checked).toBe(2 * 41)
    const gone = puts[0]?.cid as string
    await a.server.delete(gone)
    await expect(a.server.get(gone)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
    await a.server.delete(big.cid)
  })

  it('finds a damaged packed replica, drops it, and repair sends a good one', async () => {
    cluster = new Cluster('memory')
    const [a, b] = (await cluster.mesh(2, { replication: 1, repairInterval: 0 })) as [TestNode, TestNode]
    const data = randomFile(20_000)
    const put = await a.server.put(data)
    expect(put.replicas).toEqual([b.transport.nodeId])
    // Flip a byte of the replica inside b's pack, behind the store's back (bit rot).
    const locator = locatorOf(deriveOwnerSecrets(a.ownerKey), put.cid)
    const peek = new Store({ root: join(b.dataDir, 'store') })
    const replica = await readAll(peek.read(locator, { namespace: a.ownerKey.ownerId }))
    await peek.close()
    const packs = join(b.dataDir, 'store', '.packs')
    const [pack] = await readdir(packs)
    const bytes = await readFile(join(packs, pack as string))
    const at = bytes.indexOf(replica.subarray(100, 164))
    expect(at).toBeGreaterThan(0)
    bytes[at + 10] = (bytes[at + 10] as number) ^ 0xff
    await writeFile(join(packs, pack as string), bytes)
    const verified = await b.server.verify()
    expect(verified.held).toMatchObject({ removed: 1 })
    // The owner's repair finds the replica gone and sends it again from its own copy.
    await waitFor(
      async () => {
        const r = await a.server.repair()
        return r.underReplicated === 0 && r.healthy >= 1
      },
      { what: 'repair to replace the damaged replica', timeout: 15_000 },
    )
    await a.server.evictLocal(put.cid)
    expect((await readAll((await a.server.get(put.cid)).stream)).equals(data)).toBe(true)
  })
})
