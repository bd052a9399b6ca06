import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { deriveOwnerSecrets, locatorOf } from '@cas/crypto'
import { casPathTransform } from '@cas/store'
import { afterEach, describe, expect, it } from 'vitest'
import { signAction } from '../src/signatures.js'
import { Cluster, type TestNode, waitFor } from './helpers/cluster.js'
import { randomFile } from './helpers/data.js'

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  )

function replicaPath(holder: TestNode, owner: TestNode, cid: string): string {
  const locator = locatorOf(deriveOwnerSecrets(owner.ownerKey), cid)
  return join(holder.dataDir, 'store', owner.ownerKey.ownerId, casPathTransform(locator))
}

describe('delete', () => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster.close()
  })

  it('removes the local copy and every replica, after which get fails with ERR_NOT_FOUND', async () => {
    cluster = new Cluster('plain')
    const [a, b, c] = await cluster.mesh(3, { replication: 2 })
    const { cid } = await a!.server.put(randomFile(40_000), { name: 'doomed' })
    expect(await exists(replicaPath(b!, a!, cid))).toBe(true)
    expect(await a!.server.delete(cid)).toEqual({ local: true, peers: 2 })
    expect(await exists(replicaPath(b!, a!, cid))).toBe(false)
    expect(await exists(replicaPath(c!, a!, cid))).toBe(false)
    expect(await a!.server.resolveName('doomed')).toBeUndefined()
    await expect(a!.server.get(cid)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
    expect((await b!.server.status()).held).toMatchObject({ objects: 0, bytes: 0 })
  })

  it('ignores a replayed delete signed before the replica was last written', async () => {
    cluster = new Cluster('plain')
    const [a, b] = await cluster.mesh(2, { replication: 1 })
    const file = randomFile(10_000)
    const { cid } = await a!.server.put(file)
    const locator = locatorOf(deriveOwnerSecrets(a!.ownerKey), cid)
    const fields = { ownerId: a!.ownerKey.ownerId, locator, issuedAt: Date.now() }
    const captured = { op: 'delete', ...fields, ...signAction(a!.ownerKey, 'delete', fields) }
    const peer = a!.transport.peer(b!.server.nodeId)!
    expect(await peer.request(captured)).toMatchObject({ body: { deleted: true } })
    // The owner puts the object again; the old delete, sent once more, must not remove the new replica.
    await a!.server.evictLocal(cid)
    await a!.server.delete(cid)
    const again = await a!.server.put(file)
    expect(again.replicas).toEqual([b!.server.nodeId])
    expect(await peer.request(captured)).toMatchObject({ body: { deleted: false } })
    expect(await exists(replicaPath(b!, a!, cid))).toBe(true)
  })

  it('refuses a store whose signature does not cover what was sent, and keeps serving', async () => {
    cluster = new Cluster('plain')
    const [a, b] = await cluster.mesh(2, { replication: 1 })
    const fields = { ownerId: a!.ownerKey.ownerId, locator: 'ab'.repeat(32), issuedAt: Date.now(), size: 4 }
    const signed = signAction(a!.ownerKey, 'store', fields)
    const peer = a!.transport.peer(b!.server.nodeId)!
    const data = new Uint8Array([1, 2, 3, 4])
    await expect(
      peer.request({ op: 'store', ...fields, size: 3, ...signed }, { data: data.subarray(0, 3) }),
    ).rejects.toMatchObject({ remoteCode: 'ERR_UNAUTHORIZED' })
    await expect(
      peer.request({ op: 'store', ...fields, ...signed }, { data: new Uint8Array(9) }),
    ).rejects.toMatchObject({ remoteCode: 'ERR_SIZE_MISMATCH' })
    await expect(peer.request({ op: 'nonsense' })).rejects.toMatchObject({ remoteCode: 'ERR_BAD_REQUEST' })
    await expect(peer.request({ op: 'store', ...fields, ...signed }, { data })).resolves.toMatchObject({
      body: { stored: true, size: 4 },
    })
  })

  it('refuses a replayed store signed before the owner deleted that replica', async () => {
    cluster = new Cluster('plain')
    const [a, b] = await cluster.mesh(2, { replication: 1 })
    const fields = { ownerId: a!.ownerKey.ownerId, locator: 'cd'.repeat(32), issuedAt: Date.now(), size: 4 }
    const captured = { op: 'store', ...fields, ...signAction(a!.ownerKey, 'store', fields) }
    const data = new Uint8Array([5, 6, 7, 8])
    const peer = a!.transport.peer(b!.server.nodeId)!
    await expect(peer.request(captured, { data })).resolves.toMatchObject({ body: { stored: true } })
    const del = { ownerId: fields.ownerId, locator: fields.locator, issuedAt: fields.issuedAt + 1 }
    await expect(
      peer.request({ op: 'delete', ...del, ...signAction(a!.ownerKey, 'delete', del) }),
    ).resolves.toMatchObject({
      body: { deleted: true },
    })
    await expect(peer.request(captured, { data })).rejects.toMatchObject({ remoteCode: 'ERR_UNAUTHORIZED' })
    expect((await b!.server.status()).held.objects).toBe(0)
  })

  it('sends a delete again to a holder that was offline, when it comes back', async () => {
    cluster = new Cluster('plain')
    const [a, b, c] = await cluster.mesh(3, { replication: 2 })
    const { cid } = await a!.server.put(randomFile(20_000))
    await cluster.stop(b!)
    expect(await a!.server.delete(cid)).toEqual({ local: true, peers: 1 })
    expect(await exists(replicaPath(c!, a!, cid))).toBe(false)
    expect(await exists(replicaPath(b!, a!, cid))).toBe(true)
    // b restarts with its identity and data; a tells it what it missed as soon as they connect.
    await cluster.add({
      ownerKey: b!.ownerKey,
      identity: b!.identity,
      dataDir: b!.dataDir,
      bootstrap: [a!.addr],
    })
    await waitFor(async () => !(await exists(replicaPath(b!, a!, cid))), { what: 'b to drop the replica' })
  })
})
