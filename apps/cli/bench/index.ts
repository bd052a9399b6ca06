// `pnpm --filter cli bench`: how long a `cas` command takes to start and finish, beside `node -e 0`
// (the floor any Node program pays) measured in the same run.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startNodeProcess } from '@cas/test-kit'
import { CAS_BIN, median, QUICK, report, timeRun } from './bench-util.js'

const RUNS = QUICK ? 7 : 21

async function sample(args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  await timeRun(args, env) // warm the file cache
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) times.push(await timeRun(args, env))
  return median(times)
}

const dir = await mkdtemp(join(tmpdir(), 'cas-cli-bench-'))
const node = await startNodeProcess({
  home: join(dir, 'node'),
  logFile: join(dir, 'node.log'),
  args: ['--listen', '127.0.0.1:0', '--api-listen', '127.0.0.1:0', '--log-level', 'warn'],
})
try {
  const baseline = { name: 'node -e 0', value: await sample(['-e', '0']) }
  const env = { CAS_HOME: node.home }
  console.log(`cas start-up, median of ${RUNS} runs (ms, lower is better)`)
  await report({ name: 'node -e 0', unit: 'ms', value: baseline.value, higherIsBetter: false })
  for (const [label, args] of [
    ['cas --version', ['--version']],
    ['cas --help', ['--help']],
    ['cas status (one API call)', ['status']],
    ['cas ls (one API call)', ['ls']],
  ] as const) {
    const value = await sample([CAS_BIN, ...args], env)
    await report({ name: `start-up ${label}`, unit: 'ms', value, higherIsBetter: false, baseline })
  }
} finally {
  await node.stop()
  await rm(dir, { recursive: true, force: true })
}
