// `pnpm bench [--quick] [--runs N] [--only store,crypto,…]`: every package's bench and the system bench, N runs
// each, summarised as medians with spread into docs/benchmarks.md and docs/benchmarks.json.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import * as z from 'zod'
import { type BenchRecord, parseRecords } from './bench-record.js'
import { machineInfo } from './machine.js'
import { type Figure, summarise, writeReport } from './report.js'

const root = join(import.meta.dirname, '..', '..')
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    only: { type: 'string' },
  },
})
const quick = args.quick === true
// Quick mode is for a look during development: one run unless asked for more.
const runs = Number(args.runs ?? (quick ? 1 : 3))
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--runs must be a positive integer, got ${args.runs}`)
const only = args.only ? new Set(args.only.split(',')) : undefined

interface Suite {
  name: string
  command: string[]
  cwd: string
}

async function suites(): Promise<Suite[]> {
  const found: Suite[] = []
  for (const dir of (await readdir(join(root, 'packages'))).sort()) {
    const manifest = JSON.parse(await readFile(join(root, 'packages', dir, 'package.json'), 'utf8')) as {
      name: string
      scripts?: Record<string, string>
    }
    if (manifest.scripts?.bench)
      found.push({
        name: dir,
        command: ['pnpm', 'run', '--silent', 'bench'],
        cwd: join(root, 'packages', dir),
      })
  }
  if (existsSync(join(root, 'benchmarks', 'src', 'system-bench.ts')))
    found.push({
      name: 'system',
      command: ['pnpm', 'run', '--silent', 'system'],
      cwd: join(root, 'benchmarks'),
    })
  return found.filter((s) => !only || only.has(s.name))
}

function run(suite: Suite, recordsFile: string): Promise<number> {
  const [cmd, ...rest] = suite.command
  const child = spawn(cmd as string, rest, {
    cwd: suite.cwd,
    stdio: 'inherit',
    env: { ...process.env, CAS_BENCH_JSON: recordsFile, CAS_BENCH_QUICK: quick ? '1' : '0' },
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
  })
}

const EarlierReportSchema = z.object({
  mode: z.string(),
  machine: z.object({
    date: z.string(),
    load: z.object({ start: z.number(), end: z.number() }).optional(),
  }),
  figures: z.array(z.object({ suite: z.string() }).passthrough()),
})

/** The figures of suites this run does not measure, from the report an earlier run wrote. */
async function keptFigures(jsonPath: string, measured: Set<string>): Promise<Figure[]> {
  const text = await readFile(jsonPath, 'utf8').catch(() => undefined)
  if (text === undefined) return []
  const earlier = EarlierReportSchema.parse(JSON.parse(text))
  const from = {
    date: earlier.machine.date,
    mode: earlier.mode,
    ...(earlier.machine.load && { load: earlier.machine.load }),
  }
  return earlier.figures
    .filter((f) => !measured.has(f.suite) && !measured.has(f.suite.replace(/-\d+$/, '')))
    .map((f) => ({ from, ...(f as unknown as Figure) }))
}

const work = await mkdtemp(join(tmpdir(), 'cas-bench-'))
const failures: string[] = []
const records: BenchRecord[] = []
const started = Date.now()
const loadAtStart = loadavg()[0] ?? 0
try {
  const list = await suites()
  for (let i = 1; i <= runs; i++) {
    for (const suite of list) {
      console.error(`\n== run ${i}/${runs}: ${suite.name} ==`)
      const file = join(work, `${suite.name}-${i}.jsonl`)
      const code = await run(suite, file)
      if (code !== 0) failures.push(`${suite.name} (run ${i}) exited with ${code}`)
      const text = await readFile(file, 'utf8').catch(() => '')
      records.push(...parseRecords(text))
    }
  }
} finally {
  await rm(work, { recursive: true, force: true })
}

const mode = `${quick ? 'quick' : 'full'}, ${runs} run${runs > 1 ? 's' : ''}`
const base = join(root, 'docs', quick ? 'benchmarks-quick' : 'benchmarks')
const figures = [...(only ? await keptFigures(`${base}.json`, only) : []), ...summarise(records)]
// Package suites first, the system suites last, each group in name order (stable: a suite keeps its figures' order).
const rank = (f: Figure) => (f.suite.startsWith('system') ? 1 : 0)
figures.sort((a, b) => rank(a) - rank(b) || a.suite.localeCompare(b.suite))
await writeReport(`${base}.md`, `${base}.json`, figures, machineInfo(loadAtStart), mode)
console.error(
  `\nwrote ${base}.md and ${base}.json (${records.length} records) in ${((Date.now() - started) / 1000).toFixed(0)} s`,
)
if (failures.length > 0) {
  console.error(`failed: ${failures.join('; ')}`)
  process.exitCode = 1
}
