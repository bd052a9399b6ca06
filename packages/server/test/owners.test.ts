import { access, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { deriveOwnerSecrets, locatorOf } from '@cas/crypto'
import { casPathTransform } from '@cas/store'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeCapability, encodeCapability } from '../src/index.js'
import { signAction } from '../src/signatures.js'
import { Cluster, FILES_ON_DISK, MODES, type TestNode } from './helpers/cluster.js'
import { randomFile, readAll } from './helpers/data.js'

function replicaPath(holder: TestNode, owner: TestNode, cid: string): string {
  const locator = locatorOf(deriveOwnerSecrets(owner.ownerKey), cid)
  return join(holder.dataDir, 'store', owner.ownerKey.ownerId, casPathTransform(locator))
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  )

describe.each(MODES)('two owners on one network over %s', (mode) => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  /** A (owner 1) and B (owner 2) each put with R = 2 over a third node C, so each holds the other's ciphertext. */
  async function setUp() {
    cluster = new Cluster(mode, FILES_ON_DISK)
    const [a, b, c] = await cluster.mesh(3, { replication: 2 })
    expect(a!.ownerKey.ownerId).not.toBe(b!.ownerKey.ownerId)
    return { a: a!, b: b!, c: c! }
  }

  it('keeps only ciphertext on the other owner’s node, which cannot read it by cid', async () => {
    const { a, b } = await setUp()
    const file = Buffer.from('the plaintext of owner one, which owner two must never see. '.repeat(2_000))
    const { cid, replicas } = await a.server.put(file)
    expect(replicas).toContain(b.server.nodeId)
    const held = await readFile(replicaPath(b, a, cid))
    expect(held.includes(file.subarray(0, 60))).toBe(false)
    expect(held.length).toBeGreaterThan(file.length)
    await expect(b.server.get(cid)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
  })

  it('refuses a delete of one owner’s replica signed by another owner, and logs why', async () => {
    const warnings: { obj: Record<string, unknown>; msg: string }[] = []
    const quiet = () => {}
    const logger = {
      debug: quiet,
      info: quiet,
      error: quiet,
      warn: (obj: object, msg: string) => warnings.push({ obj: obj as Record<string, unknown>, msg }),
    }
    cluster = new Cluster(mode, FILES_ON_DISK)
    const [a, b, c] = (await cluster.mesh(3, { replication: 2, logger })) as [TestNode, TestNode, TestNode]
    const { cid } = await a.server.put(randomFile(5_000))
    const locator = locatorOf(deriveOwnerSecrets(a.ownerKey), cid)
    const fields = { ownerId: a.ownerKey.ownerId, locator, issuedAt: Date.now() }
    // B signs with its own key a delete naming A's namespace, and sends it straight to C.
    const forged = { op: 'delete', ...fields, ...signAction(b.ownerKey, 'delete', fields) }
    const peer = b.transport.peer(c.server.nodeId)!
    await expect(peer.request(forged)).rejects.toMatchObject({ remoteCode: 'ERR_UNAUTHORIZED' })
    expect(warnings).toContainEqual({
      obj: expect.objectContaining({ op: 'delete', code: 'ERR_UNAUTHORIZED', nodeId: b.server.nodeId }),
      msg: 'refused a peer request',
    })
    // B's own delete of that cid names B's namespace and locator: nothing of B's is found, A's replicas stay.
    await expect(b.server.delete(cid)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
    expect(await exists(replicaPath(c, a, cid))).toBe(true)
    expect(await exists(replicaPath(b, a, cid))).toBe(true)
  })

  it('lets the second owner read exactly the one object shared with it', async () => {
    const { a, b } = await setUp()
    const one = randomFile(70_000)
    const two = randomFile(70_000)
    const first = await a.server.put(one)
    const second = await a.server.put(two)
    const cap = a.server.share(first.cid)

    const got = await b.server.get(cap)
    expect(got.cid).toBe(first.cid)
    expect((await readAll(got.stream)).equals(one)).toBe(true)
    expect((await b.server.stat(first.cid)).shared).toBe(true)
    // Known by its cid now: B reads its cached copy, then (evicted) the holders again, with the capability's key.
    expect((await readAll((await b.server.get(first.cid)).stream)).equals(one)).toBe(true)
    await b.server.evictLocal(first.cid)
    expect((await readAll((await b.server.get(first.cid)).stream)).equals(one)).toBe(true)
    expect(() => b.server.share(first.cid)).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED' }))

    // The capability's keys open nothing else: pointed at the second object, every replica fails its tags.
    const parsed = decodeCapability(cap)
    const secondLocator = locatorOf(deriveOwnerSecrets(a.ownerKey), second.cid)
    const forged = encodeCapability({ ...parsed, cid: second.cid, locator: secondLocator })
    await expect(b.server.get(forged)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
    await expect(b.server.get(second.cid)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
    // Deleted and put again, the same bytes get a new object key: the old capability opens nothing.
    await a.server.delete(first.cid)
    await a.server.put(one)
    await b.server.evictLocal(first.cid)
    await expect(b.server.get(cap)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
    const fresh = decodeCapability(a.server.share(first.cid))
    expect(Buffer.from(fresh.objectKey).equals(Buffer.from(parsed.objectKey))).toBe(false)
  })
})
