import { locatorOf } from '@cas/crypto'
import {
  type ClusterNode,
  corruptBytes,
  LocalCluster,
  seededBytes,
  seededCid,
  seededStream,
  until,
} from '@cas/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { hashObject, killHard, listObjects, putObject, verifyNode } from '../src/node-api.js'
import { pick, runSeed, seededRandom } from '../src/random.js'
import {
  FILES_ON_DISK_ARGS,
  filesIn,
  keyOf,
  type NodeOwner,
  ownerSecretsOf,
  replicaFileCid,
  temporaries,
} from '../src/store-files.js'
import { amount, iterations, reportFigures, SOAK } from '../src/suite-mode.js'

/** Soak rounds run for minutes; the bounded suite keeps the config's limit. */
const TIMEOUT = SOAK ? 30 * 60_000 : undefined

/**
 * Crash during write: three nodes, A puts with R = 2 so that B and C each receive a replica while A
 * ingests. A node is killed with SIGKILL at a random moment (the writer while it ingests, the writer
 * while it replicates, or a holder while its replica streams in), then restarted. Promises checked:
 * - every object in every store passes its hash (`POST /v1/verify`, and the files hashed here);
 * - nothing partial is visible: every listed object reads back whole and right, every object file
 *   on disk (plaintext or replica) is complete, and no temporary outlives its writer;
 * - every put that was acknowledged is readable with the right bytes.
 */

type Victim = 'writer while ingesting' | 'writer while replicating' | 'holder while storing'
const VICTIMS: readonly Victim[] = [
  'writer while ingesting',
  'writer while replicating',
  'holder while storing',
]

interface Known {
  seed: string
  size: number
}

interface Nodes {
  a: ClusterNode
  b: ClusterNode
  c: ClusterNode
}

interface Tally {
  objectsChecked: number
  objectsLost: number
  corruptBytesReturned: number
  replicasChecked: number
  /** Complete replicas of objects the test never learnt of (see checkStores). */
  unknownReplicas: number
  unlisted: number
}

/** What a test carries from round to round: the nodes, A's owner, every object written and those acknowledged. */
interface Run {
  nodes: Nodes
  owner: NodeOwner
  known: Map<string, Known>
  acked: Set<string>
  tally: Tally
}

/** The figures both crash tests report from their tally. */
function tallyFigures(tally: Tally) {
  return {
    objectsChecked: tally.objectsChecked,
    objectsLost: tally.objectsLost,
    corruptBytesReturned: tally.corruptBytesReturned,
    replicasChecked: tally.replicasChecked,
    unknownReplicas: tally.unknownReplicas,
    completeButUnlisted: tally.unlisted,
  }
}

describe('crash during write', () => {
  let cluster: LocalCluster | undefined

  afterEach(async () => {
    await cluster?.stop()
    cluster = undefined
  })

  async function startCluster(): Promise<Nodes> {
    // Repair stays out of the way: what is on disk after a crash is what the crash left.
    cluster = new LocalCluster({
      args: [...FILES_ON_DISK_ARGS, '--replication', '2', '--repair-interval', '1h'],
    })
    const a = await cluster.add({ name: 'a' })
    const b = await cluster.add({ name: 'b' })
    const c = await cluster.add({ name: 'c' })
    const nodes = { a, b, c }
    await meshed(nodes)
    return nodes
  }

  async function meshed(nodes: Nodes): Promise<void> {
    await until(
      'every node to see the other two',
      async () => {
        for (const n of [nodes.a, nodes.b, nodes.c])
          if ((await LocalCluster.connectedPeers(n)) < 2) return false
        return true
      },
      30_000,
    )
  }

  /** A meshed cluster, A's owner secrets, and nothing written or counted yet. */
  async function startRun(): Promise<Run> {
    const nodes = await startCluster()
    return {
      nodes,
      owner: await ownerSecretsOf(nodes.a.home),
      known: new Map(),
      acked: new Set(),
      tally: {
        objectsChecked: 0,
        objectsLost: 0,
        corruptBytesReturned: 0,
        replicasChecked: 0,
        unknownReplicas: 0,
        unlisted: 0,
      },
    }
  }

  /** Restarts the killed node in its home, waits for the mesh, then checks every store. */
  async function restartAndCheck(run: Run, victim: keyof Nodes): Promise<void> {
    run.nodes[victim] = await (cluster as LocalCluster).restart(run.nodes[victim])
    await meshed(run.nodes)
    await checkStores(run)
  }

  it(
    'leaves no partial object and loses no acknowledged put when a node is killed during a large put',
    async () => {
      const seed = runSeed()
      const rng = seededRandom(seed)
      console.log(`[crash-during-write] seed ${seed}`)
      const rounds = iterations(3, 8)
      const size = amount(96 * 1024 * 1024, 1024 * 1024 * 1024)
      const run = await startRun()
      const { nodes, known, acked, tally } = run
      const killedAt: string[] = []
      let ackedCount = 0

      for (let round = 0; round < rounds; round++) {
        const victim = round < VICTIMS.length ? (VICTIMS[round] as Victim) : pick(rng, VICTIMS)
        const dataSeed = `crash-${seed}-${round}`
        const cid = await seededCid(dataSeed, size)
        known.set(cid, { seed: dataSeed, size })
        const holder = pick(rng, ['b', 'c'] as const)
        const killed: keyof Nodes = victim === 'holder while storing' ? holder : 'a'
        // The moment: a random point of the ingest on A, or of the replica streaming into a holder.
        const watched = victim === 'writer while ingesting' ? nodes.a : nodes[holder]
        const threshold = Math.floor(rng() * size)

        let settled = false
        const put = putObject(nodes.a, seededStream(dataSeed, size)).then(
          (res) => ({ ok: true as const, res }),
          (err: unknown) => ({ ok: false as const, err }),
        )
        void put.then(() => {
          settled = true
        })
        await until(
          `${victim} to reach ${threshold} bytes`,
          async () => settled || (await temporaries(watched.home)).some((t) => t.size >= threshold),
          300_000,
        )
        await killHard(nodes[killed])
        const outcome = await put
        if (outcome.ok) {
          expect(outcome.res.cid).toBe(cid)
          acked.add(cid)
          ackedCount++
        }
        killedAt.push(`${victim}@${((threshold / size) * 100).toFixed(0)}%${outcome.ok ? ' (acked)' : ''}`)

        await restartAndCheck(run, killed)
        // Checked: now it goes from every disk it reached, so that each round hashes one big object, not all.
        // A put killed before anything was kept leaves nothing to delete: that answers 404, and is fine here.
        await nodes.a.client.send('DELETE', `/v1/objects/${cid}`).then(
          (res) => res.resume(),
          (err: unknown) => {
            if ((err as { code?: string }).code !== 'ERR_NOT_FOUND') throw err
          },
        )
        known.delete(cid)
        acked.delete(cid)
      }
      console.log(`[crash-during-write] kills: ${killedAt.join(', ')}`)

      reportFigures({
        fault: 'crash during write (large put)',
        iterations: rounds,
        ...tallyFigures(tally),
        putMiB: size / 1024 / 1024,
        acknowledged: ackedCount,
        seed,
      })
      expect(tally.objectsLost).toBe(0)
      expect(tally.corruptBytesReturned).toBe(0)
    },
    TIMEOUT,
  )

  it(
    'loses no acknowledged put when nodes are killed at random during a stream of small puts',
    async () => {
      const seed = runSeed()
      const rng = seededRandom(seed)
      console.log(`[crash-during-write] small puts, seed ${seed}`)
      const rounds = iterations(2, 10)
      const maxSize = amount(2 * 1024 * 1024, 4 * 1024 * 1024)
      const run = await startRun()
      const { nodes, known, acked, tally } = run
      let puts = 0

      for (let round = 0; round < rounds; round++) {
        const killed: keyof Nodes = round % 2 === 0 ? 'a' : pick(rng, ['b', 'c'] as const)
        const killAfter = 2 + Math.floor(rng() * 10)
        let ackedThisRound = 0
        let stop = false
        let n = 0
        const target = nodes.a
        // Three writers in flight at once, so that a kill always cuts some puts short.
        const writer = async () => {
          while (!stop) {
            const dataSeed = `small-${seed}-${round}-${n++}`
            const size = 1 + Math.floor(rng() * maxSize)
            puts++
            try {
              const res = await putObject(target, seededStream(dataSeed, size))
              known.set(res.cid, { seed: dataSeed, size })
              acked.add(res.cid)
              ackedThisRound++
            } catch {
              // Cut short by the kill: not acknowledged, so nothing is promised about it.
              known.set(await seededCid(dataSeed, size), { seed: dataSeed, size })
            }
          }
        }
        const writers = [writer(), writer(), writer()]
        await until(`${killAfter} puts to be acknowledged`, async () => ackedThisRound >= killAfter, 120_000)
        await killHard(nodes[killed])
        stop = true
        await Promise.all(writers)
        await restartAndCheck(run, killed)
      }

      reportFigures({
        fault: 'crash during write (stream of small puts)',
        iterations: rounds,
        ...tallyFigures(tally),
        puts,
        acknowledged: acked.size,
        seed,
      })
      expect(tally.objectsLost).toBe(0)
      expect(tally.corruptBytesReturned).toBe(0)
    },
    TIMEOUT,
  )
})

/**
 * After a crash and restart: no temporary left anywhere, A's verify is clean, everything A lists
 * reads back right, every acknowledged put is listed and right, and every object file on every disk
 * is complete (plaintext hashes to its key, a replica decrypts with every tag checked to its cid).
 */
async function checkStores({ nodes, owner, known, acked, tally }: Run): Promise<void> {
  const all = [nodes.a, nodes.b, nodes.c]
  // A restarted node swept at open; a live holder whose store request was cut short must drop its own.
  for (const n of all) {
    await until(`${n.name}'s .tmp to be empty`, async () => (await temporaries(n.home)).length === 0, 20_000)
  }

  const verify = await verifyNode(nodes.a)
  expect(verify.damaged).toEqual([])

  const listed = await listObjects(nodes.a)
  const listedCids = new Set(listed.map((o) => o.cid))
  for (const cid of acked) {
    if (!listedCids.has(cid)) tally.objectsLost++
    expect(listedCids.has(cid), `acknowledged ${cid} is listed`).toBe(true)
  }
  for (const o of listed) {
    const got = await hashObject(nodes.a, o.cid)
    tally.objectsChecked++
    if (got.cid === o.cid && got.size === o.size) continue
    const k = known.get(o.cid)
    if (k) {
      const res = await nodes.a.client.send('GET', `/v1/objects/${o.cid}`)
      tally.corruptBytesReturned += (await corruptBytes(res, seededBytes(k.seed, k.size))).corrupt
    }
    if (acked.has(o.cid)) tally.objectsLost++
    expect(got, `listed ${o.cid} reads back whole`).toEqual({ cid: o.cid, size: o.size })
  }

  // Every file in A's own namespace is a complete replica that opens to the cid it is named by. One the
  // catalogue does not list (a kill between the store's rename and the catalogue's write) is complete
  // but unlisted: counted, since a get by cid still serves it. (A's catalogue segments are here too:
  // objects A wrote itself, not listed.)
  const own: string[] = []
  for (const path of await filesIn(nodes.a.home, 'self')) {
    const key = await keyOf(path)
    expect(key, `${path} has a readable header`).toBeDefined()
    expect(await replicaFileCid(path, key as string, owner, key as string), `${path} is complete`).toBe(key)
    own.push(key as string)
    if (!listedCids.has(key as string) && known.has(key as string)) tally.unlisted++
  }

  // Every replica file on a holder is complete: it opens whole, with A's keys, to the cid its locator
  // names. Most are of objects A knows (the test's puts, A's catalogue segments); one whose put the
  // kill cut short on A after its replica had landed (a catalogue segment A never kept) is found by
  // the cid its manifest hashes to, and counted.
  const byLocator = new Map([...known.keys(), ...own].map((cid) => [locatorOf(owner.secrets, cid), cid]))
  for (const holder of [nodes.b, nodes.c]) {
    for (const path of await filesIn(holder.home, owner.ownerId)) {
      const locator = await keyOf(path)
      expect(locator, `${path} has a readable header`).toBeDefined()
      const cid = byLocator.get(locator as string)
      const opened = await replicaFileCid(path, locator as string, owner, cid)
      expect(opened, `${path} is a complete replica`).toBeDefined()
      if (cid !== undefined) expect(opened).toBe(cid)
      else tally.unknownReplicas++
      tally.replicasChecked++
    }
  }
}
