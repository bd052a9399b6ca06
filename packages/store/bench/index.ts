// `pnpm bench`: store throughput beside raw fs baselines measured in the same run on the same data.
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { appendFile, mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { casPathTransform, Store } from '../src/index.js'

const MiB = 1024 * 1024
// CAS_BENCH_QUICK=1: small sizes for a quick look; CAS_BENCH_JSON=<file>: also append machine-readable records.
const QUICK = process.env.CAS_BENCH_QUICK === '1'
const BIG = Number(process.env.BENCH_BIG_MIB ?? (QUICK ? 128 : 1024)) * MiB
const SMALL_COUNT = Number(process.env.BENCH_SMALL_COUNT ?? (QUICK ? 1000 : 10_000))
const SMALL_SIZE = 4096
const IN_FLIGHT = 32
const RUNS = QUICK ? 1 : 3
const PIECE = MiB

function sink(): Writable {
  return new Writable({ write: (_chunk, _enc, cb) => cb() })
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - start) / 1e9
}

async function median(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) times.push(await time(fn))
  times.sort((a, b) => a - b)
  return times[Math.floor(RUNS / 2)] ?? Number.NaN
}

async function inParallel(
  count: number,
  limit: number,
  task: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) await task(next++)
    }),
  )
}

/** The same durable steps the store takes, by hand: 8 nested folders per object, and the folder fsynced. */
async function rawLayoutWrite(root: string, data: Uint8Array, i: number): Promise<void> {
  const path = join(root, casPathTransform(String(i)))
  const folder = dirname(path)
  await mkdir(folder, { recursive: true })
  await rawAtomicWrite(path, join(root, `${i}.tmp`), data)
  const handle = await open(folder, 'r')
  await handle.sync()
  await handle.close()
}

async function rawAtomicWrite(path: string, tmp: string, data: Uint8Array): Promise<void> {
  const handle = await open(tmp, 'wx')
  await handle.write(data)
  await handle.sync()
  await handle.close()
  await rename(tmp, path)
}

interface BenchRecord {
  name: string
  unit: string
  value: number
  baseline?: { name: string; value: number }
}

async function writeRecords(records: BenchRecord[]): Promise<void> {
  const out = process.env.CAS_BENCH_JSON
  if (!out) return
  await appendFile(out, records.map((r) => `${JSON.stringify({ suite: 'store', ...r })}\n`).join(''))
}

const dir = await mkdtemp(join(tmpdir(), 'cas-store-bench-'))
try {
  const source = join(dir, 'source')
  const handle = await open(source, 'w')
  for (let done = 0; done < BIG; done += 16 * MiB)
    await handle.write(randomBytes(Math.min(16 * MiB, BIG - done)))
  await handle.close()

  const copy = join(dir, 'copy')
  const rawCopy = await median(async () => {
    const out = createWriteStream(copy)
    await pipeline(createReadStream(source, { highWaterMark: PIECE }), out)
    const h = await open(copy, 'r+')
    await h.sync()
    await h.close()
  })
  const rawRead = await median(() => pipeline(createReadStream(copy, { highWaterMark: PIECE }), sink()))

  const store = new Store({ root: join(dir, 'store') })
  let key = ''
  const put = await median(async () => {
    await store.clear()
    key = (await store.put(createReadStream(source, { highWaterMark: PIECE }))).key
  })
  const read = await median(() => pipeline(store.read(key), sink()))

  const smallData = Array.from({ length: SMALL_COUNT }, () => randomBytes(SMALL_SIZE))
  const rawSmallDir = join(dir, 'raw-small')
  await mkdir(rawSmallDir)
  const rawSmall = await time(() =>
    inParallel(SMALL_COUNT, IN_FLIGHT, (i) =>
      rawAtomicWrite(
        join(rawSmallDir, String(i)),
        join(rawSmallDir, `${i}.tmp`),
        smallData[i] ?? new Uint8Array(),
      ),
    ),
  )
  const layoutDir = join(dir, 'raw-layout')
  await mkdir(layoutDir)
  const rawLayout = await time(() =>
    inParallel(SMALL_COUNT, IN_FLIGHT, (i) => rawLayoutWrite(layoutDir, smallData[i] ?? new Uint8Array(), i)),
  )
  const smallStore = new Store({ root: join(dir, 'small-store') })
  await smallStore.open()
  const storeSmall = await time(() =>
    inParallel(SMALL_COUNT, IN_FLIGHT, (i) => smallStore.put(smallData[i] ?? new Uint8Array())),
  )

  const mibs = (seconds: number) => BIG / MiB / seconds
  await writeRecords([
    {
      name: `put ${BIG / MiB} MiB`,
      unit: 'MiB/s',
      value: mibs(put),
      baseline: { name: 'raw fs copy + fsync', value: mibs(rawCopy) },
    },
    {
      name: `read ${BIG / MiB} MiB`,
      unit: 'MiB/s',
      value: mibs(read),
      baseline: { name: 'raw fs read', value: mibs(rawRead) },
    },
    {
      name: `put ${SMALL_COUNT} x 4 KiB`,
      unit: 'puts/s',
      value: SMALL_COUNT / storeSmall,
      baseline: { name: 'raw write + fsync + rename', value: SMALL_COUNT / rawSmall },
    },
    {
      name: `put ${SMALL_COUNT} x 4 KiB (same-layout baseline)`,
      unit: 'puts/s',
      value: SMALL_COUNT / storeSmall,
      baseline: { name: 'raw, same 8-level layout, folder fsync', value: SMALL_COUNT / rawLayout },
    },
  ])
  const rows: [string, string, string, string][] = [
    [
      `put ${BIG / MiB} MiB (stream from file)`,
      `${mibs(put).toFixed(0)} MiB/s`,
      `raw fs copy + fsync ${mibs(rawCopy).toFixed(0)} MiB/s`,
      (rawCopy / put).toFixed(2),
    ],
    [
      `read ${BIG / MiB} MiB`,
      `${mibs(read).toFixed(0)} MiB/s`,
      `raw fs read ${mibs(rawRead).toFixed(0)} MiB/s`,
      (rawRead / read).toFixed(2),
    ],
    [
      `put ${SMALL_COUNT} x 4 KiB, ${IN_FLIGHT} in flight`,
      `${(SMALL_COUNT / storeSmall).toFixed(0)} puts/s`,
      `raw write+fsync+rename ${(SMALL_COUNT / rawSmall).toFixed(0)} files/s`,
      (rawSmall / storeSmall).toFixed(2),
    ],
    [
      '(same)',
      `${(SMALL_COUNT / storeSmall).toFixed(0)} puts/s`,
      `raw, same layout: mkdir 8 levels + fsync file + rename + fsync folder ${(SMALL_COUNT / rawLayout).toFixed(0)} files/s`,
      (rawLayout / storeSmall).toFixed(2),
    ],
  ]
  console.log(
    `@cas/store bench — ${BIG / MiB} MiB object, median of ${RUNS} runs; ratio = store / baseline speed`,
  )
  console.log('| operation | store | baseline | ratio |')
  console.log('| --- | --- | --- | --- |')
  for (const row of rows) console.log(`| ${row.join(' | ')} |`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
