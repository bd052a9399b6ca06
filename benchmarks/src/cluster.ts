import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { StatusSchema } from '@cas/api'
import { type ClusterNode, LocalCluster } from '@cas/test-kit'

export { type ClusterNode, until } from '@cas/test-kit'

export interface StartOptions {
  dir: string
  name: string
  /** Extra daemon flags, e.g. ['--replication', '2']. */
  args?: string[]
  bootstrap?: string[]
}

// CAS_BENCH_PROFILE=<dir>: every node writes a V8 CPU profile there when it stops (open in Chrome DevTools).
// CAS_BENCH_NODE_ARGS='--trace-gc ...': more flags for every node process (their logs go to the bench's folder).
const PROFILE_ARGS = [
  ...(process.env.CAS_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CAS_BENCH_PROFILE}`] : []),
  ...(process.env.CAS_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
]

// A profile attributes time by package only when the daemon runs as separate modules, not as one bundled file.
if (process.env.CAS_BENCH_PROFILE && !process.env.CAS_NODE_MAIN) {
  process.env.CAS_NODE_MAIN = fileURLToPath(new URL('../../apps/node/dist/main.js', import.meta.url))
}

/** Starts one node process on free loopback ports in `dir` (which the caller removes). */
export function startNode(opts: StartOptions): Promise<ClusterNode> {
  return new LocalCluster({ dir: opts.dir, args: ['--log-level', 'warn'], nodeArgs: PROFILE_ARGS }).add({
    name: opts.name,
    bootstrap: opts.bootstrap ?? [],
    ...(opts.args && { args: opts.args }),
  })
}

export const connectedPeers = LocalCluster.connectedPeers

/** How many members a node counts (connected, or known with an address and reachable on demand). */
export async function memberCount(node: ClusterNode): Promise<number> {
  return (await node.client.json(StatusSchema, 'GET', '/v1/status')).peers.members ?? 0
}

export async function repairStatus(node: ClusterNode) {
  return (await node.client.json(StatusSchema, 'GET', '/v1/status')).repair
}

/** Peak resident memory of a process since start or since the last reset, in MiB (Linux). */
export async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN)
  return kib / 1024
}

/** Resets the kernel's peak-RSS mark so that the next reading covers only what follows (Linux). */
export async function resetPeakRss(pid: number): Promise<void> {
  const { writeFile } = await import('node:fs/promises')
  await writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => {
    // Not permitted here: the reading then covers the whole life of the process, which the report says.
  })
}
