import { Readable } from 'node:stream'
import { EXIT_INTEGRITY, EXIT_OK, VerifyResultSchema } from '@cas/api'
import { locatorOf } from '@cas/crypto'
import { type ClusterNode, LocalCluster, seededBuffer, until } from '@cas/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { getObject, listObjects, putObject, runCas, statObject } from '../src/node-api.js'
import { evictLocal } from '../src/object-io.js'
import { pick, runSeed, seededRandom } from '../src/random.js'
import {
  type Damage,
  damage,
  FILES_ON_DISK_ARGS,
  fileExists,
  type NodeOwner,
  objectPath,
  ownerSecretsOf,
  readContent,
  replicaContentCid,
  replicaFileCid,
  replicaPath,
} from '../src/store-files.js'
import { amount, iterations, reportFigures, SOAK } from '../src/suite-mode.js'
import { corruptBytes } from './helpers/objects.js'

/** Soak rounds run for minutes; the bounded suite keeps the config's limit. */
const TIMEOUT = SOAK ? 30 * 60_000 : undefined

/**
 * Bit rot: three nodes, A puts with R = 2 so that B and C each hold a ciphertext replica. Behind the
 * nodes' backs the test flips bits in, truncates, deletes or damages the header of A's plaintext
 * copies and of the replicas on B and C. Promises checked:
 * - `cas verify` (the binary) lists exactly the damaged local copies and exits with EXIT_INTEGRITY;
 * - a get never returns a corrupt byte: it fetches a good replica instead;
 * - the damaged local copy is replaced on disk, and a holder whose replica failed is sent a fresh one;
 * - after healing, `cas verify` exits 0 and every copy on disk is good.
 */
const LOCAL_DAMAGE: readonly (Damage | 'none')[] = ['flip', 'truncate', 'header', 'delete', 'none']
const REMOTE_DAMAGE: readonly (Damage | 'none')[] = ['flip', 'truncate', 'header', 'delete', 'none', 'none']

interface Stored {
  cid: string
  seed: string
  size: number
  local: Damage | 'none'
  remote: Damage | 'none'
  /** The holder a fetch asks first (the catalogue's first holder): the one damaged. */
  firstHolder: string
}

describe('bit rot', () => {
  let cluster: LocalCluster | undefined

  afterEach(async () => {
    await cluster?.stop()
    cluster = undefined
  })

  it(
    'never returns corrupt bytes, heals every damaged copy from a good replica, and cas verify reports each one',
    async () => {
      const seed = runSeed()
      const rng = seededRandom(seed)
      console.log(`[bit-rot] seed ${seed}`)
      const rounds = iterations(2, 10)
      const perRound = amount(10, 24)
      const maxSize = amount(512 * 1024, 8 * 1024 * 1024)

      cluster = new LocalCluster({
        args: [...FILES_ON_DISK_ARGS, '--replication', '2', '--repair-interval', '1h'],
      })
      const a = await cluster.add({ name: 'a' })
      const b = await cluster.add({ name: 'b' })
      const c = await cluster.add({ name: 'c' })
      await until(
        'the three nodes to connect',
        async () =>
          (await LocalCluster.connectedPeers(a)) >= 2 && (await LocalCluster.connectedPeers(b)) >= 2,
        30_000,
      )
      const owner = await ownerSecretsOf(a.home)
      const byNodeId = new Map<string, ClusterNode>([b, c].map((n) => [n.process.info.nodeId, n]))

      let objectsChecked = 0
      let corruptBytesReturned = 0
      let objectsLost = 0
      let localDamaged = 0
      let remoteDamaged = 0
      let healed = 0

      for (let round = 0; round < rounds; round++) {
        // Fresh objects each round, each with a random fate for its local copy and its first replica.
        const stored: Stored[] = []
        for (let i = 0; i < perRound; i++) {
          const size = 1 + Math.floor(rng() * maxSize)
          const dataSeed = `bit-rot-${seed}-${round}-${i}`
          const put = await putObject(a, Readable.from([seededBuffer(dataSeed, size)]))
          expect(put.replicas).toHaveLength(2)
          const info = await statObject(a, put.cid)
          const firstHolder = info.holders[0]?.nodeId as string
          // Cover every kind each round, then pick at random.
          const local =
            i < LOCAL_DAMAGE.length ? (LOCAL_DAMAGE[i] as Damage | 'none') : pick(rng, LOCAL_DAMAGE)
          stored.push({
            cid: put.cid,
            seed: dataSeed,
            size,
            local,
            remote: pick(rng, REMOTE_DAMAGE),
            firstHolder,
          })
        }

        for (const s of stored) {
          if (s.local !== 'none') {
            await damage(objectPath(a.home, 'self', s.cid), s.local, s.cid, rng)
            localDamaged++
          }
          if (s.remote !== 'none') {
            const holder = byNodeId.get(s.firstHolder) as ClusterNode
            await damage(replicaPath(holder.home, owner, s.cid), s.remote, locatorKey(owner, s.cid), rng)
            remoteDamaged++
          }
        }

        // The real binary, as a user runs it: every damaged local copy is listed, and only those.
        const damagedLocal = stored
          .filter((s) => s.local !== 'none' && s.local !== 'delete')
          .map((s) => s.cid)
        const before = await runCas(a, ['verify', '--json'])
        expect(before.code, before.stderr).toBe(damagedLocal.length > 0 ? EXIT_INTEGRITY : EXIT_OK)
        expect(new Set(VerifyResultSchema.parse(JSON.parse(before.stdout)).damaged)).toEqual(
          new Set(damagedLocal),
        )

        // Listing and getting agree: every object is still listed, and each get is whole and right.
        const listed = new Set((await listObjects(a)).map((o) => o.cid))
        for (const s of stored) {
          expect(listed.has(s.cid)).toBe(true)
          const got = await getObject(a, s.cid)
          const want = seededBuffer(s.seed, s.size)
          const corrupt = corruptBytes(got.body, want)
          corruptBytesReturned += got.status === 200 ? corrupt : 0
          if (got.status !== 200 || corrupt !== 0) objectsLost++
          expect(got.status).toBe(200)
          expect(corrupt).toBe(0)
          objectsChecked++
          // The local copy on disk is good again: untouched, replaced by the verified fetch, or (a chunk
          // that failed mid-stream) replaced from a holder right after the get.
          await until(
            `the local copy of ${s.cid.slice(0, 12)} to be good again`,
            async () =>
              (await replicaFileCid(objectPath(a.home, 'self', s.cid), s.cid, owner, s.cid)) === s.cid,
            30_000,
          )
        }

        // A replica that failed was only noticed if a get asked its holder for those chunks. Holders check
        // their replicas without any key (`cas verify`, also run as a periodic scrub) and remove damaged
        // ones; the owner's next get then finds the replica missing and sends a good one.
        for (const holder of [b, c]) {
          const scrub = await runCas(holder, ['verify', '--json'])
          expect(scrub.code, scrub.stderr).toBe(EXIT_OK)
        }
        for (const s of stored.filter((x) => x.remote !== 'none')) {
          await evictLocal(a, s.cid)
          const got = await getObject(a, s.cid)
          const corrupt = corruptBytes(got.body, seededBuffer(s.seed, s.size))
          corruptBytesReturned += got.status === 200 ? corrupt : 0
          if (got.status !== 200 || corrupt !== 0) objectsLost++
          expect(got.status).toBe(200)
          expect(corrupt).toBe(0)
          objectsChecked++
        }

        // Each damaged replica is replaced on its holder by a good one (the owner sends it after the get).
        for (const s of stored.filter((x) => x.remote !== 'none')) {
          const holder = byNodeId.get(s.firstHolder) as ClusterNode
          await until(
            `the replica of ${s.cid.slice(0, 12)} on ${holder.name} to be healed`,
            async () => replicaIsGood(holder, owner, s),
            30_000,
          )
          healed++
        }

        const after = await runCas(a, ['verify', '--json'])
        expect(after.code, after.stderr).toBe(EXIT_OK)
        expect(VerifyResultSchema.parse(JSON.parse(after.stdout)).damaged).toEqual([])
      }

      reportFigures({
        fault: 'bit rot',
        iterations: rounds,
        objectsChecked,
        objectsLost,
        corruptBytesReturned,
        localCopiesDamaged: localDamaged,
        replicasDamaged: remoteDamaged,
        replicasHealed: healed,
        seed,
      })
      expect(objectsLost).toBe(0)
      expect(corruptBytesReturned).toBe(0)
    },
    TIMEOUT,
  )

  it('fails a get rather than serve a damaged copy when no good replica is left, and returns no byte', async () => {
    cluster = new LocalCluster({
      args: [...FILES_ON_DISK_ARGS, '--replication', '1', '--repair-interval', '1h'],
    })
    const a = await cluster.add({ name: 'a' })
    const b = await cluster.add({ name: 'b' })
    await until('the two nodes to connect', async () => (await LocalCluster.connectedPeers(a)) >= 1, 30_000)
    const owner = await ownerSecretsOf(a.home)
    const data = seededBuffer('no-good-replica', 300_000)
    const { cid } = await putObject(a, Readable.from([data]))
    const rng = seededRandom(7)
    await damage(objectPath(a.home, 'self', cid), 'flip', cid, rng)
    await damage(replicaPath(b.home, owner, cid), 'flip', locatorKey(owner, cid), rng)

    const got = await getObject(a, cid)
    expect(got).toMatchObject({ status: 502, code: 'ERR_INTEGRITY' })
    expect(got.body.length).toBe(0)
    // The damaged copy stays (it may be all that is left) and verify keeps reporting it.
    expect(await fileExists(objectPath(a.home, 'self', cid))).toBe(true)
    const verify = await runCas(a, ['verify', '--json'])
    expect(verify.code).toBe(EXIT_INTEGRITY)
    expect(VerifyResultSchema.parse(JSON.parse(verify.stdout)).damaged).toEqual([cid])
  })

  it('repair notices a replica a holder lost and sends it again, with no get needed', async () => {
    cluster = new LocalCluster({
      args: [...FILES_ON_DISK_ARGS, '--replication', '2', '--repair-interval', '1s'],
    })
    const a = await cluster.add({ name: 'a' })
    const b = await cluster.add({ name: 'b' })
    const c = await cluster.add({ name: 'c' })
    await until('the nodes to connect', async () => (await LocalCluster.connectedPeers(a)) >= 2, 30_000)
    const owner = await ownerSecretsOf(a.home)
    const byNodeId = new Map<string, ClusterNode>([b, c].map((n) => [n.process.info.nodeId, n]))
    const seed = runSeed()
    const rng = seededRandom(seed)
    const lost: Stored[] = []
    for (let i = 0; i < amount(4, 16); i++) {
      const size = 1 + Math.floor(rng() * amount(256 * 1024, 4 * 1024 * 1024))
      const dataSeed = `lost-replica-${seed}-${i}`
      const { cid } = await putObject(a, Readable.from([seededBuffer(dataSeed, size)]))
      const holders = (await statObject(a, cid)).holders.map((h) => h.nodeId)
      const holder = pick(rng, holders)
      await damage(replicaPath((byNodeId.get(holder) as ClusterNode).home, owner, cid), 'delete', cid, rng)
      lost.push({ cid, seed: dataSeed, size, local: 'none', remote: 'delete', firstHolder: holder })
    }
    for (const s of lost) {
      const holder = byNodeId.get(s.firstHolder) as ClusterNode
      await until(
        `repair to restore the replica of ${s.cid.slice(0, 12)} on ${holder.name}`,
        async () => replicaIsGood(holder, owner, s),
        30_000,
      )
    }
    reportFigures({
      fault: 'lost replica restored by repair',
      iterations: 1,
      objectsChecked: lost.length,
      objectsLost: 0,
      corruptBytesReturned: 0,
      replicasRestored: lost.length,
      seed,
    })
  })
})

/** The holder's file is stored under the locator, so its header records that key. */
function locatorKey(owner: NodeOwner, cid: string): string {
  return locatorOf(owner.secrets, cid)
}

/** The holder's replica checks against its commit and opens, chunk by chunk, to the object's cid. */
async function replicaIsGood(holder: ClusterNode, owner: NodeOwner, s: Stored): Promise<boolean> {
  const sealed = await readContent(holder.home, owner.ownerId, locatorKey(owner, s.cid))
  if (!sealed) return false
  return (await replicaContentCid(sealed, owner, s.cid)) === s.cid
}
