import { deriveOwnerSecrets, fileKeys, locatorOf, seal } from '@cas/crypto'
import type { TcpTransport } from '@cas/p2p'
import { Store } from '@cas/store'
import { afterEach, describe, expect, it } from 'vitest'
import { type BadPeerEvent, rankNodes } from '../src/index.js'
import { Cluster, MODES, makeTransport, type TestNode, waitFor } from './helpers/cluster.js'
import { randomFile, readAll, sha256 } from './helpers/data.js'

/**
 * Three nodes: A puts with R = 2, so B and C each hold a replica. G, a fresh
 * node with A's owner key that knows only the cid, fetches it. The replica of
 * whichever holder G asks first is spoiled on disk through the store API.
 */
describe.each(MODES)('fetching past peers that serve bad data or hang over %s', (mode) => {
  let cluster: Cluster
  let extra: TcpTransport | undefined
  afterEach(async () => {
    await extra?.close()
    extra = undefined
    await cluster.close()
  })

  async function setUp() {
    cluster = new Cluster(mode)
    const [a, b, c] = await cluster.mesh(3, { replication: 2 })
    return { a: a!, b: b!, c: c! }
  }

  /** G joins after the put, so that it holds no replica itself and knows the object only by cid. */
  async function joinG(a: TestNode, peers: number): Promise<TestNode> {
    const g = await cluster.add({ ownerKey: a.ownerKey, bootstrap: [a.addr], fetchTimeout: 1_000 })
    await waitFor(() => new Set(g.transport.peers().map((p) => p.nodeId)).size >= peers, {
      what: 'G to know the network',
    })
    return g
  }

  /** Rewrites a node's replica through a second Store handle on its folder (the object is replaced atomically). */
  async function replaceReplica(node: TestNode, owner: TestNode, cid: string, bytes: Uint8Array) {
    const locator = locatorOf(deriveOwnerSecrets(owner.ownerKey), cid)
    const store = new Store({ root: `${node.dataDir}/store` })
    await store.write(locator, bytes, { namespace: owner.ownerKey.ownerId })
  }

  async function replicaOf(node: TestNode, owner: TestNode, cid: string): Promise<Buffer> {
    const locator = locatorOf(deriveOwnerSecrets(owner.ownerKey), cid)
    const store = new Store({ root: `${node.dataDir}/store` })
    return readAll(store.read(locator, { namespace: owner.ownerKey.ownerId }))
  }

  function firstHolder(a: TestNode, g: TestNode, cid: string, holders: TestNode[]): TestNode {
    const locator = locatorOf(deriveOwnerSecrets(a.ownerKey), cid)
    const order = rankNodes(
      locator,
      g.transport.peers().map((p) => p.nodeId),
    )
    return holders.sort((x, y) => order.indexOf(x.server.nodeId) - order.indexOf(y.server.nodeId))[0]!
  }

  it('skips and reports a peer whose replica was tampered with, and returns the right bytes', async () => {
    const { a, b, c } = await setUp()
    const file = randomFile(300_000)
    const { cid } = await a.server.put(file)
    const g = await joinG(a, 3)
    const bad = firstHolder(a, g, cid, [b, c])
    const sealed = await replicaOf(bad, a, cid)
    sealed[sealed.length - 100]! ^= 0x01
    await replaceReplica(bad, a, cid, sealed)
    const reported: BadPeerEvent[] = []
    g.server.on('peer:bad', (e: BadPeerEvent) => reported.push(e))

    const got = await g.server.get(cid)
    expect((await readAll(got.stream)).equals(file)).toBe(true)
    expect(got.skipped).toContainEqual(
      expect.objectContaining({ nodeId: bad.server.nodeId, code: 'ERR_INTEGRITY' }),
    )
    expect(reported).toContainEqual(
      expect.objectContaining({ nodeId: bad.server.nodeId, cid, code: 'ERR_INTEGRITY' }),
    )
    expect(got.source).not.toBe(bad.server.nodeId)
  })

  it('skips and reports a peer that serves a validly sealed but different object', async () => {
    const { a, b, c } = await setUp()
    const file = randomFile(200_000)
    const { cid } = await a.server.put(file)
    const g = await joinG(a, 3)
    const bad = firstHolder(a, g, cid, [b, c])
    // Sealed with the right keys, so every tag checks: only the SHA-256 against the cid can catch it.
    const { fileKey, fileMacKey } = fileKeys(deriveOwnerSecrets(a.ownerKey), cid)
    await replaceReplica(bad, a, cid, seal(randomFile(200_000), { fileKey, macKey: fileMacKey }))

    const got = await g.server.get(cid)
    expect(sha256(await readAll(got.stream))).toBe(cid)
    expect(got.skipped).toContainEqual(
      expect.objectContaining({ nodeId: bad.server.nodeId, code: 'ERR_CID_MISMATCH' }),
    )
    expect(await g.server.has(cid)).toBe(true)
  })

  it('gives up on a peer that stops sending mid-stream and fetches from the next holder', async () => {
    const { a, b, c } = await setUp()
    const made = await makeTransport(mode, a.ownerKey)
    extra = made.transport
    const hung = made.transport
    let served = 0
    hung.handle(async (req) => {
      served++
      const body = req.body as { op: string }
      if (body.op !== 'fetch') return { body: { records: [] } }
      // Announces a size, sends one chunk, then goes silent until the requester gives up.
      async function* stall(): AsyncIterable<Uint8Array> {
        yield Buffer.from('CAS1')
        await new Promise((resolve) => req.signal.addEventListener('abort', resolve))
      }
      return { body: { size: 10_000_000 }, data: stall() }
    })
    await hung.listen()

    // Choose content whose locator ranks the hung peer first among G's future peers, so it is asked first.
    const peerIds = [a, b, c].map((n) => n.server.nodeId).concat(hung.nodeId)
    const secrets = deriveOwnerSecrets(a.ownerKey)
    let file = randomFile(100_000)
    while (rankNodes(locatorOf(secrets, sha256(file)), peerIds)[0] !== hung.nodeId) file = randomFile(100_000)
    const { cid } = await a.server.put(file)
    const g = await joinG(a, 3)
    await g.server.connect(hung.listenAddr)
    await waitFor(() => g.transport.peer(hung.nodeId) !== undefined, {
      what: 'G to connect to the hung peer',
    })

    const started = Date.now()
    const got = await g.server.get(cid)
    expect((await readAll(got.stream)).equals(file)).toBe(true)
    expect(served).toBeGreaterThan(0)
    expect(got.skipped[0]).toMatchObject({ nodeId: hung.nodeId })
    expect(['ERR_TIMEOUT', 'ERR_PEER_TIMEOUT']).toContain(got.skipped[0]!.code)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('fails with ERR_NOT_FOUND when no peer has the object', async () => {
    const { a } = await setUp()
    const g = await joinG(a, 3)
    await expect(g.server.get(sha256(randomFile(10)))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
  })
})
