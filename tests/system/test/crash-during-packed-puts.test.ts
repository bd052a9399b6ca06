import { StatusSchema } from '@cas/api'
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
import { readPacks } from '../src/pack-files.js'
import { pick, runSeed, seededRandom } from '../src/random.js'
import {
  filesIn,
  keyOf,
  type NodeOwner,
  ownerSecretsOf,
  replicaContentCid,
  replicaFileCid,
  replicaPath,
  temporaries,
} from '../src/store-files.js'
import { iterations, reportFigures, SOAK } from '../src/suite-mode.js'

/** Soak rounds run for minutes; the bounded suite keeps the config's limit. */
const TIMEOUT = SOAK ? 30 * 60_000 : undefined

/**
 * Issue 13: crashes while every node puts small objects at once, with packs on (the default), so
 * that each node is an owner and a holder of the other two while its store's group commit batches
 * its own objects and the replicas streaming in together. A node is killed with SIGKILL while all
 * three write, then restarted. Promises checked after each restart:
 * - every put that was acknowledged is listed by its owner and reads back with the right bytes;
 * - every replica a put acknowledged is on that holder's disk (a pack record, or a file) and opens,
 *   every chunk checked, to the cid;
 * - nothing partial is visible: every object a node lists reads back whole, every pack record and
 *   file in any namespace is a complete object, no pack has a torn tail, and no temporary is left.
 */

const NAMES = ['a', 'b', 'c'] as const
type Name = (typeof NAMES)[number]
/** Writers in flight on each node. */
const WRITERS = 4
/** Objects up to this size: replicas of all of them fit below the default pack threshold (64 KiB). */
const MAX_SIZE = 48 * 1024

interface Written {
  seed: string
  size: number
  /** Holders that acknowledged a replica; undefined when the put itself was not acknowledged. */
  replicas: Name[] | undefined
}

interface Tally {
  puts: number
  acknowledged: number
  objectsChecked: number
  objectsLost: number
  corruptBytesReturned: number
  replicasChecked: number
  replicasLost: number
  /** Complete replicas of objects the test never learnt of (see checkNodes). */
  unknownReplicas: number
  packRecords: number
}

describe('crash during packed puts', () => {
  let cluster: LocalCluster | undefined

  afterEach(async () => {
    await cluster?.stop()
    cluster = undefined
  })

  it(
    'loses no acknowledged small put nor replica when nodes are killed while all three put at once',
    async () => {
      const seed = runSeed()
      const rng = seededRandom(seed)
      console.log(`[crash-during-packed-puts] seed ${seed}`)
      const rounds = iterations(3, 12)
      // Repair stays out of the way: what is on disk after a crash is what the crash left.
      cluster = new LocalCluster({ args: ['--replication', '2', '--repair-interval', '1h'] })
      const nodes = {} as Record<Name, ClusterNode>
      for (const name of NAMES) nodes[name] = await cluster.add({ name })
      await meshed(nodes)
      const owners = {} as Record<Name, NodeOwner>
      const byNodeId = new Map<string, Name>()
      for (const name of NAMES) {
        owners[name] = await ownerSecretsOf(nodes[name].home)
        const status = await nodes[name].client.json(StatusSchema, 'GET', '/v1/status')
        byNodeId.set(status.nodeId, name)
      }
      const written = Object.fromEntries(NAMES.map((n) => [n, new Map<string, Written>()])) as Record<
        Name,
        Map<string, Written>
      >
      const tally: Tally = {
        puts: 0,
        acknowledged: 0,
        objectsChecked: 0,
        objectsLost: 0,
        corruptBytesReturned: 0,
        replicasChecked: 0,
        replicasLost: 0,
        unknownReplicas: 0,
        packRecords: 0,
      }
      const kills: string[] = []

      for (let round = 0; round < rounds; round++) {
        // Each node in turn first, then at random.
        const victim = round < NAMES.length ? (NAMES[round] as Name) : pick(rng, NAMES)
        const killAfter = 10 + Math.floor(rng() * 30)
        let ackedThisRound = 0
        let stop = false
        let n = 0
        const writer = async (owner: Name) => {
          while (!stop) {
            const dataSeed = `packed-${seed}-${round}-${owner}-${n++}`
            const size = 1 + Math.floor(rng() * MAX_SIZE)
            tally.puts++
            try {
              const res = await putObject(nodes[owner], seededStream(dataSeed, size))
              const replicas = res.replicas.map((id) => byNodeId.get(id) as Name)
              written[owner].set(res.cid, { seed: dataSeed, size, replicas })
              ackedThisRound++
              tally.acknowledged++
            } catch {
              // Cut short by the kill (its owner killed, or a refusal): nothing is promised about it.
              const cid = await seededCid(dataSeed, size)
              if (!written[owner].has(cid))
                written[owner].set(cid, { seed: dataSeed, size, replicas: undefined })
            }
          }
        }
        const writers = NAMES.flatMap((owner) => Array.from({ length: WRITERS }, () => writer(owner)))
        await until(`${killAfter} puts to be acknowledged`, async () => ackedThisRound >= killAfter, 120_000)
        await killHard(nodes[victim])
        kills.push(`${victim} after ${ackedThisRound} acks`)
        stop = true
        await Promise.all(writers)
        nodes[victim] = await cluster.restart(nodes[victim])
        await meshed(nodes)
        await checkNodes(nodes, owners, written, tally)
      }
      console.log(`[crash-during-packed-puts] kills: ${kills.join(', ')}`)

      reportFigures({
        fault: 'crash during concurrent small puts on every node (packs)',
        iterations: rounds,
        ...tally,
        seed,
      })
      expect(tally.acknowledged).toBeGreaterThan(0)
      expect(tally.packRecords).toBeGreaterThan(0)
      expect(tally.objectsLost).toBe(0)
      expect(tally.replicasLost).toBe(0)
      expect(tally.corruptBytesReturned).toBe(0)
    },
    TIMEOUT,
  )
})

async function meshed(nodes: Record<Name, ClusterNode>): Promise<void> {
  await until(
    'every node to see the other two',
    async () => {
      for (const name of NAMES) if ((await LocalCluster.connectedPeers(nodes[name])) < 2) return false
      return true
    },
    30_000,
  )
}

/** After a restart: the promises of this suite's header, on every node. */
async function checkNodes(
  nodes: Record<Name, ClusterNode>,
  owners: Record<Name, NodeOwner>,
  written: Record<Name, Map<string, Written>>,
  tally: Tally,
): Promise<void> {
  for (const name of NAMES) {
    const home = nodes[name].home
    // A restarted node swept at open; a live holder whose store request was cut short drops its own.
    await until(`${name}'s .tmp to be empty`, async () => (await temporaries(home)).length === 0, 20_000)
    // A live node may be appending a catalogue segment while the packs are read: read them at rest.
    await until(
      `${name}'s packs to end on a whole record`,
      async () => (await readPacks(home)).unclean.length === 0,
      20_000,
    )
    expect((await verifyNode(nodes[name])).damaged, `${name} verifies clean`).toEqual([])
  }

  // Every object a node lists reads back whole; every acknowledged put is among them.
  for (const name of NAMES) {
    const listed = new Map((await listObjects(nodes[name])).map((o) => [o.cid, o.size]))
    for (const [cid, w] of written[name]) {
      if (w.replicas === undefined) continue
      if (!listed.has(cid)) tally.objectsLost++
      expect(listed.get(cid), `${name}'s acknowledged ${cid} is listed`).toBe(w.size)
    }
    for (const [cid, size] of listed) {
      const got = await hashObject(nodes[name], cid)
      tally.objectsChecked++
      const w = written[name].get(cid)
      if (w && got.cid !== cid) {
        const res = await nodes[name].client.send('GET', `/v1/objects/${cid}`)
        tally.corruptBytesReturned += (await corruptBytes(res, seededBytes(w.seed, w.size))).corrupt
        if (w.replicas !== undefined) tally.objectsLost++
      }
      expect(got, `${name}'s ${cid} reads back whole`).toEqual({ cid, size })
    }
  }

  const packs = Object.fromEntries(
    await Promise.all(NAMES.map(async (n) => [n, await readPacks(nodes[n].home)])),
  ) as Record<Name, Awaited<ReturnType<typeof readPacks>>>
  for (const name of NAMES) tally.packRecords += packs[name].records

  for (const owner of NAMES) {
    const secrets = owners[owner]
    // The owner's own copies (its puts and its catalogue segments): each opens to the cid it is kept under.
    const own = new Set<string>()
    for (const [cid, content] of packs[owner].objects.get('self') ?? []) {
      expect(await replicaContentCid(content, secrets, cid), `${owner}'s packed ${cid} is complete`).toBe(cid)
      own.add(cid)
    }
    for (const path of await filesIn(nodes[owner].home, 'self')) {
      const cid = (await keyOf(path)) as string
      expect(await replicaFileCid(path, cid, secrets, cid), `${path} is complete`).toBe(cid)
      own.add(cid)
    }
    const byLocator = new Map(
      [...written[owner].keys(), ...own].map((cid) => [locatorOf(secrets.secrets, cid), cid]),
    )

    for (const holder of NAMES) {
      if (holder === owner) continue
      const held = packs[holder].objects.get(secrets.ownerId) ?? new Map<string, Buffer>()
      // Nothing partial: every replica of this owner on the holder, packed or in a file, opens whole to
      // the cid its locator names. One of an object the test never learnt of (a catalogue segment whose
      // put a kill cut short on its owner after the replica had landed) is found by the cid its
      // manifest hashes to, and counted.
      const check = async (
        what: string,
        locator: string,
        open: (cid: string | undefined) => Promise<string | undefined>,
      ) => {
        const cid = byLocator.get(locator)
        const opened = await open(cid)
        expect(opened, `${what} is a complete replica of an object of ${owner}`).toBeDefined()
        if (cid !== undefined) expect(opened).toBe(cid)
        else tally.unknownReplicas++
      }
      for (const [locator, content] of held) {
        await check(`${holder}'s packed ${locator}`, locator, (cid) =>
          replicaContentCid(content, secrets, cid),
        )
      }
      for (const path of await filesIn(nodes[holder].home, secrets.ownerId)) {
        const locator = await keyOf(path)
        expect(locator, `${path} has a readable header`).toBeDefined()
        await check(path, locator as string, (cid) => replicaFileCid(path, locator as string, secrets, cid))
      }
      // Every acknowledged replica is there.
      for (const [cid, w] of written[owner]) {
        if (!w.replicas?.includes(holder)) continue
        const content = held.get(locatorOf(secrets.secrets, cid))
        const found =
          content === undefined
            ? await replicaFileCid(
                replicaPath(nodes[holder].home, secrets, cid),
                locatorOf(secrets.secrets, cid),
                secrets,
                cid,
              )
            : await replicaContentCid(content, secrets, cid)
        tally.replicasChecked++
        if (found !== cid) tally.replicasLost++
        const removed = packs[holder].removed.get(secrets.ownerId)?.has(locatorOf(secrets.secrets, cid))
        expect(
          found,
          `${holder} keeps the replica of ${owner}'s ${cid} it acknowledged (removed: ${removed})`,
        ).toBe(cid)
      }
    }
  }
}
