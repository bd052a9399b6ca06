import { ApiError } from '@cas/api/client'
import { type ClusterNode, LocalCluster, until } from '@cas/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { untilConnectedPeers } from '../src/connected-peers.js'
import { killHard } from '../src/node-api.js'
import { corruptBytes, evictLocal, getBytes, putBytes, randomObject } from '../src/object-io.js'
import { randomMoment } from '../src/random.js'
import { liveHolders, replicaState } from '../src/replicas.js'
import { type NodeOwner, ownerSecretsOf } from '../src/store-files.js'
import { amount, iterations, reportFigures, SOAK } from '../src/suite-mode.js'
import { readBackFromReplica } from './helpers/read-back.js'

// Short timeouts keep the bounded suite quick; the defaults (15 s fetch, 30 s replica, 60 s idle) give the
// same behaviour on a longer clock. One test below runs on the defaults to show they are bounded too.
const REQUEST_TIMEOUT = 3_000
const IDLE_TIMEOUT = 6_000
const REPAIR_GRACE = 2_000
const REPAIR_INTERVAL = 500
const R = 2
const FAST = ['--request-timeout', String(REQUEST_TIMEOUT), '--idle-timeout', String(IDLE_TIMEOUT)]
/**
 * A get waits at most one request timeout per paused holder before it asks the next one, then moves the
 * object at no less than 8 MB/s even on this loaded machine.
 */
function getBound(size: number): number {
  return REQUEST_TIMEOUT + 7_000 + Math.ceil(size / 8_000)
}
/** A put gives up on a silent holder after one request timeout, then tries the next ranked peer (two rounds). */
const PUT_BOUND = 2 * REQUEST_TIMEOUT + 12_000
/** Repair of a killed holder: its grace, then one pass; of a paused one: the idle timeout first. */
const HEAL_BOUND = { SIGKILL: REPAIR_GRACE + 15_000, SIGSTOP: IDLE_TIMEOUT + REPAIR_GRACE + 15_000 }

/** Soak rounds run for minutes; the bounded suite keeps vitest's 180 s. */
const TEST_TIMEOUT = SOAK ? 30 * 60_000 : 180_000

type Fault = 'SIGKILL' | 'SIGSTOP'

let cluster: LocalCluster | undefined
const paused = new Set<number>()

afterEach(async () => {
  // A paused process ignores SIGTERM until it runs again.
  for (const pid of paused) resume(pid)
  paused.clear()
  await cluster?.stop()
  cluster = undefined
})

function resume(pid: number): void {
  try {
    process.kill(pid, 'SIGCONT')
  } catch {
    // already gone
  }
}

function nodeIdOf(node: ClusterNode): string {
  return node.process.info.nodeId
}

/** An owner and three peers, R = 2: one holder can go and the object still has a place for both replicas. */
async function startCluster(args: string[]): Promise<{ owner: ClusterNode; peers: ClusterNode[] }> {
  cluster = new LocalCluster({
    args: [
      '--replication',
      String(R),
      '--repair-interval',
      String(REPAIR_INTERVAL),
      '--repair-grace',
      String(REPAIR_GRACE),
      '--log-level',
      'info',
      ...args,
    ],
  })
  const owner = await cluster.add({ name: 'owner' })
  const peers: ClusterNode[] = []
  for (let i = 1; i <= 3; i++) peers.push(await cluster.add({ name: `peer${i}` }))
  await untilConnectedPeers(owner, 3, 30_000)
  return { owner, peers }
}

/** Kills or pauses `victim`; a kill is awaited until the process is gone. */
async function strike(victim: ClusterNode, fault: Fault): Promise<void> {
  if (fault === 'SIGSTOP') {
    paused.add(victim.pid)
    process.kill(victim.pid, 'SIGSTOP')
    return
  }
  await killHard(victim)
}

/** Brings `victim` back (SIGCONT, or a restart in its home) and waits until the owner sees all peers again. */
async function restore(
  owner: ClusterNode,
  peers: ClusterNode[],
  victim: ClusterNode,
  fault: Fault,
): Promise<void> {
  if (fault === 'SIGSTOP') {
    resume(victim.pid)
    paused.delete(victim.pid)
  } else {
    const fresh = await (cluster as LocalCluster).restart(victim)
    peers[peers.indexOf(victim)] = fresh
  }
  await untilConnectedPeers(owner, 3, 30_000)
}

function byNodeId(peers: ClusterNode[], nodeId: string): ClusterNode {
  const node = peers.find((p) => nodeIdOf(p) === nodeId)
  if (!node) throw new Error(`no peer ${nodeId.slice(0, 12)} in the cluster`)
  return node
}

describe('lost and paused peers', () => {
  it(
    'a get fails over from a killed or paused holder within the request timeout, with the right bytes',
    async () => {
      const { owner, peers } = await startCluster(FAST)
      const rounds = iterations(4, 16)
      const size = amount(2 * 1024 * 1024, 32 * 1024 * 1024)
      const failovers: number[] = []
      let corrupt = 0
      for (let i = 0; i < rounds; i++) {
        const fault: Fault = i % 2 === 0 ? 'SIGSTOP' : 'SIGKILL'
        const { data, cid } = randomObject(size)
        const put = await putBytes(owner, data)
        expect(put.replicas).toHaveLength(R)
        await evictLocal(owner, cid)
        // The first live holder in the catalogue is the one a get asks first.
        const [first] = await liveHolders(owner, cid)
        const victim = byNodeId(peers, first as string)
        const started = Date.now()
        // Half the rounds strike before the get, half while it is fetching.
        let got: Buffer
        if (i % 4 < 2) {
          await strike(victim, fault)
          got = await getBytes(owner, cid)
        } else {
          const getting = getBytes(owner, cid)
          await randomMoment(30)
          await strike(victim, fault)
          got = await getting
        }
        const took = Date.now() - started
        failovers.push(took)
        corrupt += corruptBytes(got, data)
        expect(got.length).toBe(data.length)
        expect(got.equals(data)).toBe(true)
        expect(took).toBeLessThan(getBound(size))
        await restore(owner, peers, victim, fault)
      }
      reportFigures({
        fault: 'lost peers: get fails over from a killed or paused holder',
        iterations: rounds,
        objectsChecked: rounds,
        objectsLost: 0,
        corruptBytesReturned: corrupt,
        objectBytes: size,
        failoverMsMax: Math.max(...failovers),
        failoverMsMedian: median(failovers),
        boundMs: getBound(size),
      })
      expect(corrupt).toBe(0)
    },
    TEST_TIMEOUT,
  )

  it(
    'a get whose every holder is paused fails with a clear error in bounded time, and succeeds once they resume',
    async () => {
      const { owner, peers } = await startCluster(FAST)
      const { data, cid } = randomObject(256 * 1024)
      const put = await putBytes(owner, data)
      expect(put.replicas).toHaveLength(R)
      await evictLocal(owner, cid)
      const holders = put.replicas.map((id) => byNodeId(peers, id))
      for (const holder of holders) await strike(holder, 'SIGSTOP')
      const started = Date.now()
      const failed = await getBytes(owner, cid).then(
        () => undefined,
        (err: unknown) => err,
      )
      const took = Date.now() - started
      // One request timeout per paused holder; the third peer answers at once that it has nothing.
      // Not a 404: the object exists, its holders did not answer; the caller may try again.
      expect(failed).toBeInstanceOf(ApiError)
      expect((failed as ApiError).status).toBe(504)
      expect((failed as ApiError).code).toBe('ERR_TIMEOUT')
      expect(took).toBeLessThan(R * REQUEST_TIMEOUT + 7_000)
      for (const holder of holders) {
        resume(holder.pid)
        paused.delete(holder.pid)
      }
      // The owner may have dropped them as idle meanwhile: a get asks connected peers only.
      await untilConnectedPeers(owner, 3, 30_000)
      const got = await getBytes(owner, cid)
      expect(got.equals(data)).toBe(true)
      reportFigures({
        fault: 'lost peers: get with every holder paused',
        iterations: 1,
        objectsChecked: 1,
        objectsLost: 0,
        corruptBytesReturned: corruptBytes(got, data),
        failedAfterMs: took,
        errorCode: (failed as ApiError).code,
        boundMs: R * REQUEST_TIMEOUT + 7_000,
      })
    },
    TEST_TIMEOUT,
  )

  it(
    'with the default timeouts a get does not wait for a paused holder',
    async () => {
      const { owner, peers } = await startCluster([])
      const { data, cid } = randomObject(256 * 1024)
      expect((await putBytes(owner, data)).replicas).toHaveLength(R)
      await evictLocal(owner, cid)
      const [first] = await liveHolders(owner, cid)
      await strike(byNodeId(peers, first as string), 'SIGSTOP')
      const started = Date.now()
      const got = await getBytes(owner, cid)
      const took = Date.now() - started
      expect(got.equals(data)).toBe(true)
      // A get asks every holder for the commit at once and reads chunks from those that answer: the paused
      // holder costs at most one chunk stall (DEFAULT_CHUNK_STALL, 5 s), not a request timeout (15 s).
      expect(took).toBeLessThan(7_000)
      reportFigures({
        fault: 'lost peers: get from a paused holder, default timeouts',
        iterations: 1,
        objectsChecked: 1,
        objectsLost: 0,
        corruptBytesReturned: corruptBytes(got, data),
        failoverMs: took,
        boundMs: 25_000,
      })
    },
    TEST_TIMEOUT,
  )

  it(
    'a put while a holder is killed or paused is acknowledged only by holders that have the data, in bounded time',
    async () => {
      const { owner, peers } = await startCluster(FAST)
      const me = await ownerSecretsOf(owner.home)
      const rounds = iterations(4, 16)
      const size = amount(2 * 1024 * 1024, 32 * 1024 * 1024)
      const objects: { data: Buffer; cid: string }[] = []
      const putTimes: number[] = []
      let underReplicated = 0
      for (let i = 0; i < rounds; i++) {
        const fault: Fault = i % 2 === 0 ? 'SIGSTOP' : 'SIGKILL'
        const victim = peers[Math.floor(Math.random() * peers.length)] as ClusterNode
        const object = randomObject(size)
        objects.push(object)
        const started = Date.now()
        const putting = putBytes(owner, object.data)
        await randomMoment(i % 4 < 2 ? 20 : 200)
        await strike(victim, fault)
        const put = await putting
        const took = Date.now() - started
        putTimes.push(took)
        expect(took).toBeLessThan(PUT_BOUND)
        expect(put.cid).toBe(object.cid)
        // Every replica the put names is really on that holder's disk, whole and decryptable.
        for (const nodeId of put.replicas) {
          expect(await replicaState(byNodeId(peers, nodeId), me, object.cid)).toBe('ok')
        }
        if (put.replicas.length < R) {
          underReplicated++
          expect(put.underReplicated).toBe(true)
        }
        await restore(owner, peers, victim, fault)
      }
      // Nothing acknowledged is lost: repair brings every object to R, and each reads back whole from a replica.
      let corrupt = 0
      for (const object of objects) {
        await untilReplicated(owner, peers, me, object.cid, 30_000)
        corrupt += await readBackFromReplica(owner, object)
      }
      reportFigures({
        fault: 'lost peers: put while a holder is killed or paused',
        iterations: rounds,
        objectsChecked: objects.length,
        objectsLost: 0,
        corruptBytesReturned: corrupt,
        objectBytes: size,
        underReplicatedPuts: underReplicated,
        putMsMax: Math.max(...putTimes),
        boundMs: PUT_BOUND,
      })
      expect(corrupt).toBe(0)
    },
    TEST_TIMEOUT,
  )

  it(
    'repair restores R live replicas after the grace period when a holder is killed or paused',
    async () => {
      const { owner, peers } = await startCluster(FAST)
      const me = await ownerSecretsOf(owner.home)
      const count = amount(4, 16)
      const size = amount(512 * 1024, 8 * 1024 * 1024)
      const objects = Array.from({ length: count }, () => randomObject(size))
      for (const { data } of objects) expect((await putBytes(owner, data)).replicas).toHaveLength(R)
      const rounds = iterations(2, 6)
      const heals: Record<Fault, number[]> = { SIGKILL: [], SIGSTOP: [] }
      for (let i = 0; i < rounds; i++) {
        const fault: Fault = i % 2 === 0 ? 'SIGKILL' : 'SIGSTOP'
        // The peer holding the most objects: its loss hurts most.
        const victim = await busiestHolder(owner, peers, objects)
        const started = Date.now()
        await strike(victim, fault)
        const survivors = peers.filter((p) => p !== victim)
        for (const { cid } of objects)
          await untilReplicated(owner, survivors, me, cid, HEAL_BOUND[fault] - (Date.now() - started))
        const took = Date.now() - started
        heals[fault].push(took)
        expect(took).toBeLessThan(HEAL_BOUND[fault])
        await restore(owner, peers, victim, fault)
      }
      let corrupt = 0
      for (const object of objects) corrupt += await readBackFromReplica(owner, object)
      reportFigures({
        fault: 'lost peers: repair restores R live replicas',
        iterations: rounds,
        objectsChecked: count * rounds,
        objectsLost: 0,
        corruptBytesReturned: corrupt,
        objectBytes: size,
        healAfterKillMsMax: Math.max(0, ...heals.SIGKILL),
        healAfterPauseMsMax: Math.max(0, ...heals.SIGSTOP),
        repairGraceMs: REPAIR_GRACE,
        idleTimeoutMs: IDLE_TIMEOUT,
      })
      expect(corrupt).toBe(0)
    },
    TEST_TIMEOUT,
  )
})

/**
 * Waits until the owner lists at least R live holders of `cid` among `among`, each of which really holds
 * a whole replica on disk.
 */
async function untilReplicated(
  owner: ClusterNode,
  among: ClusterNode[],
  me: NodeOwner,
  cid: string,
  timeoutMs: number,
): Promise<void> {
  await until(
    `${R} live, whole replicas of ${cid.slice(0, 12)}`,
    async () => {
      const ids = new Set(await liveHolders(owner, cid))
      let whole = 0
      for (const peer of among) {
        if (ids.has(nodeIdOf(peer)) && (await replicaState(peer, me, cid)) === 'ok') whole++
      }
      return whole >= R
    },
    Math.max(timeoutMs, 1_000),
  )
}

async function busiestHolder(
  owner: ClusterNode,
  peers: ClusterNode[],
  objects: { cid: string }[],
): Promise<ClusterNode> {
  const counts = new Map<string, number>()
  for (const { cid } of objects)
    for (const id of await liveHolders(owner, cid)) counts.set(id, (counts.get(id) ?? 0) + 1)
  const [best] = [...counts.entries()].sort((a, b) => b[1] - a[1])
  return byNodeId(peers, (best as [string, number])[0])
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}
