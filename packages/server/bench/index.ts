// `pnpm bench`: three FileServers as separate processes on loopback; put (R = 2) and
// get-after-local-delete throughput with each process's peak RSS, and small-file puts
// per second, each beside the store's local put of the same data in the same run.
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { appendFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateOwnerKey, ownerKeyToPem } from '@cas/crypto'
import { Store } from '@cas/store'
import { NodeProcess } from '../test/helpers/node-process.js'

const MiB = 1024 * 1024
// CAS_BENCH_QUICK=1: small sizes for a quick look; CAS_BENCH_TLS=1: TLS with the cas/1 handshake.
const QUICK = process.env.CAS_BENCH_QUICK === '1'
const MODE = process.env.CAS_BENCH_TLS === '1' ? 'tls' : 'plain'
const SIZES = QUICK ? [64 * MiB] : [256 * MiB, 1024 * MiB]
const SMALL_COUNT = QUICK ? 200 : 1_000
const SMALL_SIZE = 1024
const IN_FLIGHT = 16

async function writeFile(path: string, size: number): Promise<string> {
  const block = randomBytes(MiB)
  const hash = createHash('sha256')
  // The data's SHA-256: what a get must hash to (the cid is the put's, checked by the node).
  const out = createWriteStream(path)
  for (let i = 0; i < size / MiB; i++) {
    block.writeUInt32BE(i, 0)
    const piece = Buffer.from(block)
    hash.update(piece)
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  )
  return hash.digest('hex')
}

interface BenchRecord {
  suite: 'server'
  name: string
  unit: string
  value: number
  baseline: { name: string; value: number }
}
// Appended to $CAS_BENCH_JSON (one JSON object per line) for the root `pnpm bench` report.
const records: BenchRecord[] = []
function record(name: string, unit: string, value: number, baseline: BenchRecord['baseline']): void {
  records.push({ suite: 'server', name: `${name} (${MODE})`, unit, value, baseline })
}

const mibps = (bytes: number, ms: number) => bytes / MiB / (ms / 1000)
const fmt = (n: number) => n.toFixed(1).padStart(8)
const rssMiB = (n: number) => `${(n / MiB).toFixed(0)} MiB`

async function peaks(nodes: NodeProcess[]): Promise<string> {
  const all = await Promise.all(nodes.map((n) => n.call<{ peak: number }>('rss')))
  return all.map((r, i) => `n${i + 1} ${rssMiB(r.peak)}`).join(', ')
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cas-server-bench-'))
  const nodes = [new NodeProcess(), new NodeProcess(), new NodeProcess()]
  try {
    const ownerPem = ownerKeyToPem(generateOwnerKey())
    const first = await nodes[0]!.call<{ addr: string }>('start', {
      dataDir: join(dir, 'n1'),
      ownerPem,
      replication: 2,
      mode: MODE,
    })
    for (const [i, node] of nodes.slice(1).entries()) {
      await node.call('start', {
        dataDir: join(dir, `n${i + 2}`),
        ownerPem,
        replication: 2,
        mode: MODE,
        bootstrap: [first.addr],
      })
    }
    const [putter] = nodes as [NodeProcess]
    for (;;) {
      if ((await putter.call<number>('peers')) === 2) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    console.log(
      `cas server bench: 3 node processes on 127.0.0.1 (${MODE}), R = 2; baseline = Store.put of the same data`,
    )
    console.log('')
    console.log('what                          MiB/s  baseline    ratio  peak RSS per process')
    for (const size of SIZES) {
      const path = join(dir, `file-${size}`)
      const sha = await writeFile(path, size)
      const store = new Store({ root: join(dir, `baseline-${size}`) })
      const startedBase = performance.now()
      await store.put(createReadStream(path, { highWaterMark: MiB }))
      const baseMs = performance.now() - startedBase
      await store.clear()
      const base = mibps(size, baseMs)
      const label = `${size / MiB} MiB`

      await Promise.all(nodes.map((n) => n.call('resetPeak')))
      const put = await putter.call<{ ms: number; cid: string; replicas: string[]; phases: object }>('put', {
        path,
      })
      const cid = put.cid
      if (process.env.CAS_BENCH_DEBUG) console.log(put.phases)
      if (put.replicas.length !== 2) throw new Error(`put reached ${put.replicas.length} replicas`)
      const putRate = mibps(size, put.ms)
      record(`put ${label} R=2, 3 processes`, 'MiB/s', putRate, { name: 'Store.put', value: base })
      console.log(
        `put ${label.padEnd(22)} ${fmt(putRate)}  ${fmt(base)}  ${fmt(putRate / base)}x  ${await peaks(nodes)}`,
      )

      await putter.call('evict', { cid })
      await Promise.all(nodes.map((n) => n.call('resetPeak')))
      const got = await putter.call<{ ms: number; sha: string }>('get', { cid })
      if (got.sha !== sha) throw new Error('get returned different bytes')
      const getRate = mibps(size, got.ms)
      record(`get ${label} after local delete`, 'MiB/s', getRate, { name: 'Store.put', value: base })
      console.log(
        `get ${label.padEnd(22)} ${fmt(getRate)}  ${fmt(base)}  ${fmt(getRate / base)}x  ${await peaks(nodes)}`,
      )
      await rm(path)
    }

    const store = new Store({ root: join(dir, 'baseline-small') })
    const startedBase = performance.now()
    let next = 0
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next++ < SMALL_COUNT) await store.put(randomBytes(SMALL_SIZE))
      }),
    )
    const basePerSec = SMALL_COUNT / ((performance.now() - startedBase) / 1000)
    const many = await putter.call<{ ms: number; underReplicated: number }>('putMany', {
      count: SMALL_COUNT,
      size: SMALL_SIZE,
      concurrency: IN_FLIGHT,
    })
    const perSec = SMALL_COUNT / (many.ms / 1000)
    record(`put ${SMALL_COUNT} x 1 KiB R=2, ${IN_FLIGHT} in flight`, 'ops/s', perSec, {
      name: 'Store.put, 16 in flight',
      value: basePerSec,
    })
    console.log('')
    console.log('what                          puts/s  baseline    ratio')
    console.log(
      `put ${SMALL_COUNT} x 1 KiB (R = 2)      ${fmt(perSec)}  ${fmt(basePerSec)}  ${fmt(perSec / basePerSec)}x` +
        (many.underReplicated ? `  (${many.underReplicated} under-replicated)` : ''),
    )
  } finally {
    await Promise.allSettled(nodes.map((n) => n.close()))
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
if (process.env.CAS_BENCH_JSON) {
  await appendFile(process.env.CAS_BENCH_JSON, records.map((r) => `${JSON.stringify(r)}\n`).join(''))
}
