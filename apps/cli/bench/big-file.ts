// `pnpm --filter cli bench:big`: a 5 GiB file (CAS_BIG_GIB) through `cas put` and `cas get` against two
// running daemons, with the peak RSS of every process. The baseline is a raw streamed copy of the same
// file (read + write + fsync) on the same disk in the same run.
import { spawn } from 'node:child_process'
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { PeerListSchema } from '@cas/api'
import { ApiClient } from '@cas/api/client'
import { type NodeProcess, startNodeProcess } from '@cas/test-kit'
import { CAS_BIN, report } from './bench-util.js'

const GiB = 1024 ** 3
const MiB = 1024 ** 2
const SIZE = Math.round(Number(process.env.CAS_BIG_GIB ?? 5) * GiB)
const RSS_LIMIT_MIB = 200
const REPORTER = fileURLToPath(new URL('./report-max-rss.mjs', import.meta.url))

/** Writes `size` pseudo-random bytes (AES-CTR keystream: fast, incompressible) and returns their SHA-256. */
async function makeFile(path: string, size: number): Promise<string> {
  const cipher = createCipheriv('aes-256-ctr', randomBytes(32), randomBytes(16))
  const zeros = Buffer.alloc(8 * MiB)
  const hash = createHash('sha256')
  const file = await open(path, 'w')
  for (let done = 0; done < size; done += zeros.length) {
    const chunk = cipher.update(zeros.subarray(0, Math.min(zeros.length, size - done)))
    hash.update(chunk)
    await file.write(chunk)
  }
  await file.close()
  return hash.digest('hex')
}

async function rawCopySeconds(from: string, to: string): Promise<number> {
  const t0 = performance.now()
  await pipeline(createReadStream(from, { highWaterMark: MiB }), createWriteStream(to))
  const handle = await open(to, 'r+')
  await handle.sync()
  await handle.close()
  const seconds = (performance.now() - t0) / 1000
  await rm(to)
  return seconds
}

interface CasRun {
  seconds: number
  stdout: string
  sha256: string
  peakRssMiB: number
}

/** Runs the built `cas` with the RSS reporter preloaded; hashes its stdout as it streams. */
function runCas(
  args: string[],
  env: NodeJS.ProcessEnv,
  rssFile: string,
  keepStdout: boolean,
): Promise<CasRun> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', REPORTER, CAS_BIN, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env, CAS_MAX_RSS_FILE: rssFile },
    })
    const hash = createHash('sha256')
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => {
      hash.update(d)
      if (keepStdout) stdout += d.toString()
    })
    child.on('error', reject)
    child.on('close', async (code) => {
      if (code !== 0) return reject(new Error(`cas ${args.join(' ')} exited with ${code}`))
      const kib = Number(await readFile(rssFile, 'utf8'))
      resolve({
        seconds: (performance.now() - t0) / 1000,
        stdout,
        sha256: hash.digest('hex'),
        peakRssMiB: kib / 1024,
      })
    })
  })
}

/** Peak resident memory of a running process over its whole life, in MiB (Linux VmHWM). */
async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) / 1024
}

const dir = await mkdtemp(join(tmpdir(), 'cas-big-'))
const nodes: NodeProcess[] = []
try {
  for (const name of ['a', 'b']) {
    nodes.push(
      await startNodeProcess({
        home: join(dir, name),
        logFile: join(dir, `${name}.log`),
        args: [
          '--listen',
          '127.0.0.1:0',
          '--api-listen',
          '127.0.0.1:0',
          '--replication',
          '1',
          '--log-level',
          'warn',
        ],
        env: { CAS_BOOTSTRAP: nodes.map((n) => n.info.p2p).join(',') },
      }),
    )
  }
  const [a, b] = nodes as [NodeProcess, NodeProcess]
  const client = new ApiClient({
    url: a.info.api,
    token: (await readFile(join(a.home, 'api-token'), 'utf8')).trim(),
  })
  const deadline = Date.now() + 30_000
  while ((await client.json(PeerListSchema, 'GET', '/v1/peers')).filter((p) => p.connected).length < 1) {
    if (Date.now() > deadline) throw new Error('node a did not connect to node b')
    await new Promise((r) => setTimeout(r, 50))
  }

  const source = join(dir, 'big.bin')
  console.log(`writing a ${(SIZE / GiB).toFixed(2)} GiB file…`)
  const cid = await makeFile(source, SIZE)
  const copySeconds = await rawCopySeconds(source, join(dir, 'copy.bin'))
  const baseline = { name: 'raw streamed copy + fsync', value: SIZE / MiB / copySeconds }
  const env = { CAS_HOME: a.home }

  const put = await runCas(['--json', 'put', source, '--name', 'big.bin'], env, join(dir, 'put.rss'), true)
  const putResult = JSON.parse(put.stdout) as { cid: string; replicas: string[] }
  if (putResult.cid !== cid) throw new Error(`cas put returned ${putResult.cid}, expected ${cid}`)
  if (putResult.replicas[0] !== b.info.nodeId) throw new Error('node b did not acknowledge its replica')
  await runCas(['rm', '--local', cid], env, join(dir, 'rm.rss'), false)
  const get = await runCas(['get', cid], env, join(dir, 'get.rss'), false)
  if (get.sha256 !== cid) throw new Error(`cas get streamed data hashing to ${get.sha256}, expected ${cid}`)

  const label = `${Number((SIZE / GiB).toFixed(2))} GiB`
  await report({
    name: `cas put ${label} (store, encrypt, replicate)`,
    unit: 'MiB/s',
    value: SIZE / MiB / put.seconds,
    baseline,
  })
  await report({
    name: `cas get ${label} from the network`,
    unit: 'MiB/s',
    value: SIZE / MiB / get.seconds,
    baseline,
  })
  const rss = {
    'cas put': put.peakRssMiB,
    'cas get': get.peakRssMiB,
    'node a (put, fetch, serve)': await peakRssMiB(a.info.pid),
    'node b (replica holder)': await peakRssMiB(b.info.pid),
  }
  for (const [name, mib] of Object.entries(rss)) {
    await report({ name: `peak RSS ${name}, ${label}`, unit: 'MiB', value: mib, higherIsBetter: false })
  }
  const over = Object.entries(rss).filter(([, mib]) => mib >= RSS_LIMIT_MIB)
  console.log(
    over.length === 0
      ? `every process stayed under ${RSS_LIMIT_MIB} MiB`
      : `OVER ${RSS_LIMIT_MIB} MiB: ${over.map(([n]) => n).join(', ')}`,
  )
  if (over.length > 0) process.exitCode = 1
} finally {
  await Promise.all(nodes.map((n) => n.stop()))
  await rm(dir, { recursive: true, force: true })
}
