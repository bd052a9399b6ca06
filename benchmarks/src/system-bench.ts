// The system bench: real node processes on loopback, driven through the HTTP API.
// CAS_BENCH_QUICK=1 shrinks sizes and counts; CAS_BENCH_JSON=<file> appends one record per figure.
// CAS_BENCH_SIZES=256,1024 (MiB) runs only the transfers of those sizes on 3 nodes, for profiling one figure.
// CAS_BENCH_ONLY=small-puts|lone-put|convergence runs only that part (the 1 KiB puts; a lone node's 1 GiB put
// against Store.put; start-up and membership).
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { appendFile, mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DeleteResultSchema, ObjectListSchema, PutResultSchema } from '@cas/api'
import { FileBody } from '@cas/api/client'
import { CidHasher } from '@cas/crypto'
import { Store } from '@cas/store'
import type { BenchRecord } from './bench-record.js'
import {
  type ClusterNode,
  memberCount,
  peakRssMiB,
  repairStatus,
  resetPeakRss,
  startNode,
  until,
} from './cluster.js'
import {
  busyPercent,
  CORES,
  type CpuSpan,
  cpuBound,
  cpuMark,
  cpuSince,
  mainThreadBound,
  totalCpu,
} from './cpu-meter.js'
import { startFloor } from './floor.js'
import { folderBench } from './folder-bench.js'

const QUICK = process.env.CAS_BENCH_QUICK === '1'
const MiB = 1024 * 1024
const ONLY_SIZES = process.env.CAS_BENCH_SIZES?.split(',').map((s) => Number(s) * MiB)
const SIZES = ONLY_SIZES ?? (QUICK ? [MiB, 16 * MiB, 64 * MiB] : [MiB, 16 * MiB, 256 * MiB, 1024 * MiB])
/** Sizes whose time to first byte is measured, local and after local delete (median of TTFB_TRIES). */
const TTFB_SIZES = QUICK ? [16 * MiB, 64 * MiB] : [16 * MiB, 1024 * MiB]
const TTFB_TRIES = 7
const SMALL_PUTS = QUICK ? 300 : 10_000
/**
 * Puts made before the timed ones, on the same nodes. V8 compiles a node's put path while it serves its
 * first few thousand puts (on new nodes the compiler took a fifth of each process's CPU over the first
 * 4,000): timed from a cold start, the figure says more about the JIT than about the node. They are
 * reported too, as their own figure.
 */
const SMALL_WARMUP = QUICK ? 100 : 3_000
const LONE_PUT_SIZE = QUICK ? 64 * MiB : 1024 * MiB
const SMALL_IN_FLIGHT = 16
const REPAIR_OBJECTS = QUICK ? 100 : 1000
const FOLDER_FILES = QUICK ? 1_000 : 10_000
// Quick mode leaves out the 10-node transfers (the convergence figure still starts ten nodes).
const CLUSTERS = QUICK || ONLY_SIZES ? [3] : [3, 10]
const R = 2
const TIMEOUT = 10 * 60_000
/** Transfers from this size on also record their CPU bound (the sizes whose ratios have targets). */
const BOUND_FROM = 256 * MiB

const records: BenchRecord[] = []
function record(r: Omit<BenchRecord, 'suite'>, suite = 'system'): void {
  records.push({ suite, ...r })
  const base = r.baseline ? `  (baseline ${r.baseline.name}: ${r.baseline.value.toFixed(1)} ${r.unit})` : ''
  console.log(`${suite.padEnd(10)} ${r.name.padEnd(48)} ${r.value.toFixed(1).padStart(10)} ${r.unit}${base}`)
}

function sizeName(bytes: number): string {
  return bytes >= 1024 * MiB ? `${bytes / 1024 / MiB} GiB` : `${bytes / MiB} MiB`
}

/** Writes `size` random bytes; returns their cid. */
async function makeFile(path: string, size: number): Promise<string> {
  const handle = await open(path, 'w')
  const hash = new CidHasher()
  for (let done = 0; done < size; done += 8 * MiB) {
    const chunk = randomBytes(Math.min(8 * MiB, size - done))
    hash.update(chunk)
    await handle.write(chunk)
  }
  await handle.close()
  return hash.digest()
}

async function timedPut(
  node: ClusterNode,
  file: string,
  size: number,
  query = '',
): Promise<{ seconds: number; cid: string; replicas: number }> {
  const start = performance.now()
  // Sent as `cas put` sends a file: read through a few reused buffers.
  const handle = await open(file, 'r')
  try {
    const result = await node.client.json(PutResultSchema, 'POST', `/v1/objects${query}`, {
      body: new FileBody(handle, size),
      headers: { 'content-type': 'application/octet-stream' },
    })
    return { seconds: (performance.now() - start) / 1000, cid: result.cid, replicas: result.replicas.length }
  } finally {
    await handle.close()
  }
}

async function timedGet(node: ClusterNode, cid: string): Promise<{ seconds: number; digest: string }> {
  const start = performance.now()
  const res = await node.client.send('GET', `/v1/objects/${cid}`)
  const hash = new CidHasher()
  for await (const chunk of res as AsyncIterable<Buffer>) hash.update(chunk)
  return { seconds: (performance.now() - start) / 1000, digest: hash.digest() }
}

/** Milliseconds from sending a GET to its first body byte; the rest is not read (no local cache is made). */
async function firstByteMs(node: ClusterNode, cid: string): Promise<number> {
  const start = performance.now()
  const res = await node.client.send('GET', `/v1/objects/${cid}`)
  const it = (res as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
  await it.next()
  const ms = performance.now() - start
  res.destroy()
  return ms
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

function octets(bytes: Uint8Array) {
  return {
    body: bytes,
    headers: { 'content-type': 'application/octet-stream' },
  }
}

async function startCluster(
  dir: string,
  count: number,
  args: string[] = [],
  timing?: { allUp: number },
): Promise<ClusterNode[]> {
  const first = await startNode({ dir, name: 'n1', args })
  const rest = await Promise.all(
    Array.from({ length: count - 1 }, (_, i) =>
      startNode({ dir, name: `n${i + 2}`, args, bootstrap: [first.process.info.p2p] }),
    ),
  )
  if (timing) timing.allUp = performance.now()
  const nodes = [first, ...rest]
  await until(
    `${count} nodes to count each other as members`,
    async () => (await Promise.all(nodes.map(memberCount))).every((n) => n >= count - 1),
    60_000,
  )
  return nodes
}

async function stopAll(nodes: ClusterNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.process.stop()))
}

async function transfers(dir: string, count: number, lone: ClusterNode): Promise<void> {
  const nodes = await startCluster(join(dir, `c${count}`), count, ['--replication', String(R)])
  const suite = `system-${count}`
  try {
    const client = nodes.at(-1) as ClusterNode
    for (const size of SIZES) {
      const file = join(dir, `file-${size}`)
      const digest = await makeFile(file, size)
      const pids = [...nodes.map((n) => n.process.info.pid)]
      await Promise.all([lone.process.info.pid, ...pids].map(resetPeakRss))

      const measured = [lone.process.info.pid, ...pids]
      let mark = await cpuMark(measured)
      const local = await timedPut(lone, file, size)
      const localCpu = await cpuSince(mark)
      mark = await cpuMark(measured)
      const put = await timedPut(client, file, size)
      const putCpu = await cpuSince(mark)
      printCpu(`put ${sizeName(size)}`, size, localCpu, putCpu)
      if (put.cid !== digest || put.replicas < R)
        throw new Error(`put of ${sizeName(size)} gave ${put.replicas} replicas`)
      const putBaseline = { name: 'local put, lone node', value: size / MiB / local.seconds }
      record(
        {
          name: `put ${sizeName(size)}, R=${R}`,
          unit: 'MiB/s',
          value: size / MiB / put.seconds,
          baseline: putBaseline,
        },
        suite,
      )
      if (size >= BOUND_FROM)
        recordBound(`put ${sizeName(size)}, R=${R}`, putCpu, size / MiB, 'MiB/s', putBaseline, suite)

      const evicted = await client.client.json(DeleteResultSchema, 'DELETE', `/v1/objects/${put.cid}?local=1`)
      if (!evicted.local) throw new Error('no local copy to delete')
      mark = await cpuMark(measured)
      const localGet = await timedGet(lone, local.cid)
      const localGetCpu = await cpuSince(mark)
      mark = await cpuMark(measured)
      const get = await timedGet(client, put.cid)
      const getCpu = await cpuSince(mark)
      printCpu(`get ${sizeName(size)}`, size, localGetCpu, getCpu)
      if (get.digest !== digest) throw new Error(`get of ${sizeName(size)} returned other bytes`)
      const getBaseline = { name: 'local get, lone node', value: size / MiB / localGet.seconds }
      const getName = `get ${sizeName(size)} after local delete`
      record({ name: getName, unit: 'MiB/s', value: size / MiB / get.seconds, baseline: getBaseline }, suite)
      if (size >= BOUND_FROM) recordBound(getName, getCpu, size / MiB, 'MiB/s', getBaseline, suite)
      if (TTFB_SIZES.includes(size)) await timeToFirstByte(client, put.cid, size, suite)
      const peaks = await Promise.all(pids.map(peakRssMiB))
      record(
        {
          name: `peak RSS, busiest node, ${sizeName(size)} put+get`,
          unit: 'MiB',
          value: Math.max(...peaks),
          higherIsBetter: false,
        },
        suite,
      )
      // The lone node does the same put and get in every cluster's run: recorded once.
      if (count === CLUSTERS[0]) {
        record(
          {
            name: `peak RSS, lone node, ${sizeName(size)} put+get`,
            unit: 'MiB',
            value: await peakRssMiB(lone.process.info.pid),
            higherIsBetter: false,
          },
          suite,
        )
      }
      await rm(file)
    }
  } finally {
    await stopAll(nodes)
  }
}

/**
 * Prints where the CPU went, in CPU seconds per GiB moved: the lone node for its run, then each cluster node
 * for the cluster's run, and the bench process (the HTTP client, which hashes what it gets) in each; with
 * each run's CPU as a share of its wall time (100 % = one core busy throughout).
 */
function printCpu(what: string, size: number, lone: CpuSpan, cluster: CpuSpan): void {
  const gib = size / (1024 * MiB)
  const perGib = (cpu: number) => (cpu / gib).toFixed(2)
  const nodes = cluster.processes.slice(1)
  console.log(
    `cpu        ${what}: lone ${perGib(lone.processes[0] ?? 0)} + client ${perGib(lone.bench)} s/GiB (${busyPercent(lone)}%); ` +
      `cluster ${nodes.map(perGib).join(' + ')} + client ${perGib(cluster.bench)} = ${perGib(totalCpu(cluster) - (cluster.processes[0] ?? 0))} s/GiB (${busyPercent(cluster)}%)`,
  )
}

/**
 * Prints each process's CPU per put (the bench process is the HTTP client) and the share of the wall time,
 * then the first node's main thread: its CPU per put and how busy it was.
 */
function printPutCpu(what: string, count: number, span: CpuSpan): void {
  const perPut = (cpu: number) => Math.round((cpu / count) * 1e6)
  const main = span.mainThreads[0] ?? Number.NaN
  console.log(
    `cpu        ${what}: ${span.processes.map(perPut).join(' + ')} + client ${perPut(span.bench)} = ${perPut(totalCpu(span))} µs per put (${busyPercent(span)}%); ` +
      `its node's main thread ${perPut(main)} µs per put (${Math.round((main / span.seconds) * 100)}% busy)`,
  )
}

/** Records the rate the first node's main thread allows (`mainThreadBound`), against the figure's baseline. */
function recordMainThreadBound(
  name: string,
  span: CpuSpan,
  units: number,
  baseline: BenchRecord['baseline'],
  suite: string,
): void {
  record(
    {
      name: `${name}: its node's main-thread bound`,
      unit: 'ops/s',
      value: mainThreadBound(span, units, 0),
      ...(baseline && { baseline }),
    },
    suite,
  )
}

/**
 * Records the CPU bound of a figure (`cpuBound`: every core busy, no wait) against the figure's own
 * baseline, so that the ratio column shows the best ratio this machine allows the code as measured.
 */
function recordBound(
  name: string,
  span: CpuSpan,
  units: number,
  unit: string,
  baseline: NonNullable<BenchRecord['baseline']>,
  suite: string,
): void {
  record(
    {
      name: `${name}: CPU bound on ${CORES} cores`,
      unit,
      value: cpuBound(span, units),
      baseline,
    },
    suite,
  )
}

/**
 * Time to first byte through the HTTP API, median of TTFB_TRIES: from the local copy (a whole get has
 * just cached it), then with the local copy deleted before each try (the first byte comes from a holder).
 */
async function timeToFirstByte(node: ClusterNode, cid: string, size: number, suite: string): Promise<void> {
  const local: number[] = []
  for (let i = 0; i < TTFB_TRIES; i++) local.push(await firstByteMs(node, cid))
  const remote: number[] = []
  for (let i = 0; i < TTFB_TRIES; i++) {
    await node.client.json(DeleteResultSchema, 'DELETE', `/v1/objects/${cid}?local=1`)
    remote.push(await firstByteMs(node, cid))
  }
  for (const [where, values] of [
    ['local', local],
    ['after local delete', remote],
  ] as const) {
    record(
      {
        name: `time to first byte, ${sizeName(size)}, ${where}`,
        unit: 'ms',
        value: median(values),
        higherIsBetter: false,
      },
      suite,
    )
  }
}

/**
 * `count` puts of 1 KiB with SMALL_IN_FLIGHT in flight; ops/s, the sorted latencies in ms, and the CPU the
 * processes `pids` and the bench spent on them.
 */
async function putMany(
  node: Pick<ClusterNode, 'client'>,
  count: number,
  pids: readonly number[],
): Promise<{ perSecond: number; latencies: number[]; cpu: CpuSpan }> {
  const latencies: number[] = []
  // Made before the clock starts: the generator's cost is the load generator's, not the node's.
  const bodies = Array.from({ length: count }, () => randomBytes(1024))
  let next = 0
  const mark = await cpuMark(pids)
  const start = performance.now()
  await Promise.all(
    Array.from({ length: SMALL_IN_FLIGHT }, async () => {
      while (next < count) {
        const body = bodies[next] as Buffer
        next += 1
        const t0 = performance.now()
        await node.client.json(PutResultSchema, 'POST', '/v1/objects', octets(body))
        latencies.push(performance.now() - t0)
      }
    }),
  )
  const perSecond = count / ((performance.now() - start) / 1000)
  return { perSecond, latencies: latencies.sort((x, y) => x - y), cpu: await cpuSince(mark) }
}

/**
 * The small puts' floor (`floor-node.ts`: their essential work with no layers between its steps) with
 * `holders` holders, warmed and timed as the nodes are.
 */
async function floorPuts(holders: number): Promise<Awaited<ReturnType<typeof putMany>>> {
  const floor = await startFloor(holders)
  try {
    await putMany(floor, SMALL_WARMUP, floor.pids)
    return await putMany(floor, SMALL_PUTS, floor.pids)
  } finally {
    await floor.stop()
  }
}

/**
 * A lone node's put through the HTTP API (streamed from a file, as `cas put` does) against `Store.put`
 * of the same file into a store on the same disk: what the node adds to its store's own speed.
 */
async function lonePut(dir: string, lone: ClusterNode): Promise<void> {
  const file = join(dir, 'lone-put')
  const cid = await makeFile(file, LONE_PUT_SIZE)
  try {
    const root = join(dir, 'store-put')
    const store = new Store({ root })
    const measured = [lone.process.info.pid]
    let mark = await cpuMark(measured)
    const start = performance.now()
    await store.put(createReadStream(file, { highWaterMark: MiB }))
    const storeSeconds = (performance.now() - start) / 1000
    const storeCpu = await cpuSince(mark)
    await store.close()
    await rm(root, { recursive: true, force: true })
    mark = await cpuMark(measured)
    const put = await timedPut(lone, file, LONE_PUT_SIZE)
    const putCpu = await cpuSince(mark)
    if (put.cid !== cid) throw new Error(`the lone put gave cid ${put.cid}, not ${cid}`)
    await lone.client.json(DeleteResultSchema, 'DELETE', `/v1/objects/${cid}`)
    const gib = LONE_PUT_SIZE / 1024 / MiB
    console.log(
      `cpu        lone put ${sizeName(LONE_PUT_SIZE)}: Store.put ${(storeCpu.bench / gib).toFixed(2)} s/GiB; ` +
        `HTTP put: node ${((putCpu.processes[0] ?? 0) / gib).toFixed(2)} + client ${(putCpu.bench / gib).toFixed(2)} s/GiB`,
    )
    const name = `lone node: put ${sizeName(LONE_PUT_SIZE)} through the HTTP API`
    const baseline = { name: 'Store.put of the same file', value: LONE_PUT_SIZE / MiB / storeSeconds }
    record({ name, unit: 'MiB/s', value: LONE_PUT_SIZE / MiB / put.seconds, baseline }, 'system-1')
    recordBound(name, putCpu, LONE_PUT_SIZE / MiB, 'MiB/s', baseline, 'system-1')
  } finally {
    await rm(file, { force: true })
  }
}

async function smallPuts(dir: string, lone: ClusterNode): Promise<void> {
  const lonePids = [lone.process.info.pid]
  const localFirst = await putMany(lone, SMALL_WARMUP, lonePids)
  const local = await putMany(lone, SMALL_PUTS, lonePids)
  printPutCpu('local puts, lone node', SMALL_PUTS, local.cpu)
  record(
    {
      name: `local puts of 1 KiB, lone node: CPU bound on ${CORES} cores`,
      unit: 'ops/s',
      value: cpuBound(local.cpu, SMALL_PUTS),
    },
    'system-1',
  )
  recordMainThreadBound('local puts of 1 KiB, lone node', local.cpu, SMALL_PUTS, undefined, 'system-1')
  const floor = await floorPuts(0)
  printPutCpu('local puts, their floor', SMALL_PUTS, floor.cpu)
  record(
    {
      name: `local puts of 1 KiB, ${SMALL_IN_FLIGHT} in flight, lone node`,
      unit: 'ops/s',
      value: local.perSecond,
      baseline: { name: 'the same puts, their essential work alone (the floor)', value: floor.perSecond },
    },
    'system-1',
  )
  const nodes = await startCluster(join(dir, 'small'), 3, ['--replication', String(R)])
  try {
    const owner = nodes[0] as ClusterNode
    const pids = nodes.map((n) => n.process.info.pid)
    const first = await putMany(owner, SMALL_WARMUP, pids)
    record(
      {
        name: `first ${SMALL_WARMUP} puts of 1 KiB on new nodes, ${SMALL_IN_FLIGHT} in flight, R=${R}`,
        unit: 'ops/s',
        value: first.perSecond,
        baseline: { name: `first ${SMALL_WARMUP} local puts, lone node`, value: localFirst.perSecond },
      },
      'system-3',
    )
    const { perSecond, latencies, cpu } = await putMany(owner, SMALL_PUTS, pids)
    printPutCpu(`puts, R=${R}`, SMALL_PUTS, cpu)
    const at = (sorted: number[], q: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
    record(
      {
        name: `${SMALL_PUTS} puts of 1 KiB, ${SMALL_IN_FLIGHT} in flight, R=${R} (after the first ${SMALL_WARMUP})`,
        unit: 'ops/s',
        value: perSecond,
        baseline: { name: 'local puts, lone node', value: local.perSecond },
      },
      'system-3',
    )
    recordBound(
      `puts of 1 KiB, R=${R}`,
      cpu,
      SMALL_PUTS,
      'ops/s',
      { name: 'local puts, lone node', value: local.perSecond },
      'system-3',
    )
    recordMainThreadBound(
      `puts of 1 KiB, R=${R} (the owner)`,
      cpu,
      SMALL_PUTS,
      { name: 'local puts, lone node', value: local.perSecond },
      'system-3',
    )
    const floorR = await floorPuts(R)
    printPutCpu(`puts, R=${R}, their floor`, SMALL_PUTS, floorR.cpu)
    record(
      {
        name: `puts of 1 KiB, ${SMALL_IN_FLIGHT} in flight, R=${R} on 3 nodes`,
        unit: 'ops/s',
        value: perSecond,
        baseline: { name: 'the same puts, their essential work alone (the floor)', value: floorR.perSecond },
      },
      'system-3',
    )
    for (const q of [0.5, 0.99]) {
      record(
        {
          name: `put 1 KiB latency p${q * 100}`,
          unit: 'ms',
          value: at(latencies, q),
          higherIsBetter: false,
          baseline: { name: 'local put, lone node', value: at(local.latencies, q) },
        },
        'system-3',
      )
    }
  } finally {
    await stopAll(nodes)
  }
}

async function convergence(dir: string): Promise<void> {
  // One node alone: from spawning its process to its API answering (node.json written, listening).
  const alone = performance.now()
  const one = await startNode({ dir, name: 'alone' })
  record(
    {
      name: 'one node: process start to ready',
      unit: 's',
      value: (performance.now() - alone) / 1000,
      higherIsBetter: false,
    },
    'system-10',
  )
  await one.process.stop()
  const start = performance.now()
  const timing = { allUp: 0 }
  const nodes = await startCluster(join(dir, 'converge'), 10, [], timing)
  const end = performance.now()
  // Process start-up (10 node processes on this machine's cores) is part of the first figure; the second is
  // discovery alone: from the moment the last node is up until every node counts the nine others as members.
  record(
    {
      name: '10 nodes: last node up to full membership',
      unit: 's',
      value: (end - timing.allUp) / 1000,
      higherIsBetter: false,
    },
    'system-10',
  )
  record(
    {
      name: '10 nodes from one bootstrap: start to full membership',
      unit: 's',
      value: (end - start) / 1000,
      higherIsBetter: false,
    },
    'system-10',
  )
  await stopAll(nodes)
}

async function repair(dir: string): Promise<void> {
  const args = ['--replication', String(R), '--repair-interval', '1s', '--repair-grace', '2s']
  const nodes = await startCluster(join(dir, 'repair'), 4, args)
  try {
    const owner = nodes[0] as ClusterNode
    const holderCounts = new Map<string, number>()
    let next = 0
    await Promise.all(
      Array.from({ length: SMALL_IN_FLIGHT }, async () => {
        while (next < REPAIR_OBJECTS) {
          next += 1
          const put = await owner.client.json(
            PutResultSchema,
            'POST',
            '/v1/objects',
            octets(randomBytes(4096)),
          )
          for (const holder of put.replicas) holderCounts.set(holder, (holderCounts.get(holder) ?? 0) + 1)
        }
      }),
    )
    const [victimId] = [...holderCounts.entries()].sort((a, b) => b[1] - a[1])[0] ?? []
    const victim = nodes.find((n) => n.process.info.nodeId === victimId)
    if (!victim) throw new Error('no holder to kill')
    const start = performance.now()
    victim.process.child.kill('SIGKILL')
    // Restored: every object again has R live holders, none of them the killed node.
    await until(
      'repair to restore every replica',
      async () => {
        const objects = await owner.client.json(ObjectListSchema, 'GET', '/v1/objects')
        return (
          objects.length >= REPAIR_OBJECTS &&
          objects.every((o) => o.holders.filter((h) => h.live && h.nodeId !== victimId).length >= R)
        )
      },
      TIMEOUT,
    )
    const status = await repairStatus(owner)
    console.log(`the killed node held ${holderCounts.get(victimId ?? '')} of ${REPAIR_OBJECTS} objects`)
    console.log(`repair status after restore: ${JSON.stringify(status)}`)
    record(
      {
        // The victim's share varies run to run: printed, kept out of the name so that runs group into one figure.
        name: `restore R=${R} after killing the busiest holder of ${REPAIR_OBJECTS} objects (grace 2 s)`,
        unit: 's',
        value: (performance.now() - start) / 1000,
        higherIsBetter: false,
      },
      'system-4',
    )
  } finally {
    await stopAll(nodes)
  }
}

const ONLY = process.env.CAS_BENCH_ONLY
const dir = await mkdtemp(join(tmpdir(), 'cas-system-bench-'))
try {
  if (ONLY === undefined || ONLY === 'small-puts' || ONLY === 'lone-put') {
    const lone = await startNode({ dir, name: 'lone' })
    try {
      if (ONLY === undefined) for (const count of CLUSTERS) await transfers(dir, count, lone)
      if (!ONLY_SIZES && ONLY !== 'lone-put') await smallPuts(dir, lone)
      if (!ONLY_SIZES && ONLY !== 'small-puts') await lonePut(dir, lone)
      if (!ONLY_SIZES && ONLY === undefined) await folderBench(dir, lone, FOLDER_FILES, record)
    } finally {
      await lone.process.stop()
    }
  }
  if (!ONLY_SIZES && (ONLY === undefined || ONLY === 'convergence')) await convergence(dir)
  if (!ONLY_SIZES && ONLY === undefined) await repair(dir)
} finally {
  const out = process.env.CAS_BENCH_JSON
  if (out) await appendFile(out, records.map((r) => `${JSON.stringify(r)}\n`).join(''))
  await rm(dir, { recursive: true, force: true })
}
