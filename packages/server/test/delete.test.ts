import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { deriveOwnerSecrets, locatorOf } from '@cas/crypto'
import { casPathTransform } from '@cas/store'
import { afterEach, describe, expect, it } from 'vitest'
import { signAction } from '../src/signatures.js'
import { Cluster, FILES_ON_DISK, type TestNode, waitFor } from './helpers/cluster.js'
import { randomFile } from './helpers/data.js'
import { iterate, makeReplica, storeRecords, tampered } from './helpers/replica.js'

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
    cluster = new Cluster('memory', FILES_ON_DISK)
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
    cluster = new Cluster('memory', FILES_ON_DISK)
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

  it('refuses a store whose bytes are not those the owner signed, and keeps serving', async () => {
    cluster = new Cluster('memory', FILES_ON_DISK)
    const [a, b] = await cluster.mesh(2, { replication: 1 })
    const replica = makeReplica(a!.ownerKey, randomFile(50_000), { chunkSize: 16_384 })
    const peer = a!.transport.peer(b!.server.nodeId)!
    const store = { op: 'store', v: 2, ownerId: a!.ownerKey.ownerId }
    const send = (data: Uint8Array[], body: object = store) => peer.request(body, { data: iterate(data) })
    // Other bytes of the same size under the owner's commit: refused, nothing kept.
    await expect(send(storeRecords(tampered(replica.chunks, 2), replica.signed.bytes))).rejects.toMatchObject(
      {
        remoteCode: 'ERR_REPLICA_MISMATCH',
      },
    )
    // A chunk missing: refused too.
    await expect(send(storeRecords(replica.chunks.slice(1), replica.signed.bytes))).rejects.toMatchObject({
      remoteCode: 'ERR_REPLICA_MISMATCH',
    })
    // Signed by another owner for this namespace: refused.
    const forged = makeReplica(b!.ownerKey, randomFile(1_000))
    await expect(send(storeRecords(forged.chunks, forged.signed.bytes))).rejects.toMatchObject({
      remoteCode: 'ERR_UNAUTHORIZED',
    })
    await expect(send([new Uint8Array([9, 0, 0, 0, 1, 0])])).rejects.toMatchObject({
      remoteCode: 'ERR_BAD_REQUEST',
    })
    await expect(peer.request({ op: 'nonsense' })).rejects.toMatchObject({ remoteCode: 'ERR_BAD_REQUEST' })
    expect((await b!.server.status()).held.objects).toBe(0)
    await expect(send(storeRecords(replica.chunks, replica.signed.bytes))).resolves.toMatchObject({
      body: { stored: true },
    })
    // A replay of the same commit with other bytes cannot overwrite the good replica.
    await expect(send(storeRecords(tampered(replica.chunks, 0), replica.signed.bytes))).rejects.toMatchObject(
      {
        remoteCode: 'ERR_REPLICA_MISMATCH',
      },
    )
    expect((await b!.server.verify()).held).toEqual({ checked: 1, removed: 0 })
  })

  it('refuses a replayed store signed before the owner deleted that replica', async () => {
    cluster = new Cluster('memory', FILES_ON_DISK)
    const [a, b] = await cluster.mesh(2, { replication: 1 })
    const replica = makeReplica(a!.ownerKey, randomFile(4_000))
    const peer = a!.transport.peer(b!.server.nodeId)!
    const captured = { op: 'store', v: 2, ownerId: a!.ownerKey.ownerId }
    const data = storeRecords(replica.chunks, replica.signed.bytes)
    await expect(peer.request(captured, { data: iterate(data) })).resolves.toMatchObject({
      body: { stored: true },
    })
    const del = {
      ownerId: a!.ownerKey.ownerId,
      locator: replica.locator,
      issuedAt: replica.signed.commit.issuedAt + 1,
    }
    await expect(
      peer.request({ op: 'delete', ...del, ...signAction(a!.ownerKey, 'delete', del) }),
    ).resolves.toMatchObject({
      body: { deleted: true },
    })
    await expect(peer.request(captured, { data: iterate(data) })).rejects.toMatchObject({
      remoteCode: 'ERR_STALE_REPLICA',
    })
    expect((await b!.server.status()).held.objects).toBe(0)
  })

  it('refuses an older upload over a newer replica of the same object', async () => {
    cluster = new Cluster('memory', FILES_ON_DISK)
    const [a, b] = await cluster.mesh(2, { replication: 1 })
    const file = randomFile(4_000)
    const older = makeReplica(a!.ownerKey, file, { issuedAt: Date.now() - 1_000 })
    const newer = makeReplica(a!.ownerKey, file)
    const peer = a!.transport.peer(b!.server.nodeId)!
    const store = { op: 'store', v: 2, ownerId: a!.ownerKey.ownerId }
    const send = (r: typeof older) =>
      peer.request(store, { data: iterate(storeRecords(r.chunks, r.signed.bytes)) })
    await expect(send(newer)).resolves.toMatchObject({ body: { stored: true } })
    await expect(send(older)).rejects.toMatchObject({ remoteCode: 'ERR_STALE_REPLICA' })
    await expect(send(newer)).resolves.toMatchObject({ body: { stored: true } })
  })

  it('sends a delete again to a holder that was offline, when it comes back', async () => {
    cluster = new Cluster('memory', FILES_ON_DISK)
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
