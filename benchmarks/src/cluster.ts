import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ApiClient, type NodeProcess, PeerListSchema, StatusSchema, startNodeProcess } from '@cas/cli'

export interface ClusterNode {
  process: NodeProcess
  client: ApiClient
}

export interface StartOptions {
  dir: string
  name: string
  /** Extra daemon flags, e.g. ['--replication', '2']. */
  args?: string[]
  bootstrap?: string[]
}

/** Starts one node process on free loopback ports and returns it with an authenticated API client. */
export async function startNode(opts: StartOptions): Promise<ClusterNode> {
  const home = join(opts.dir, opts.name)
  await mkdir(opts.dir, { recursive: true })
  const proc = await startNodeProcess({
    home,
    logFile: join(opts.dir, `${opts.name}.log`),
    args: [
      '--listen',
      '127.0.0.1:0',
      '--api-listen',
      '127.0.0.1:0',
      '--log-level',
      'warn',
      ...(opts.args ?? []),
    ],
    env: { CAS_BOOTSTRAP: (opts.bootstrap ?? []).join(',') },
  })
  const token = (await readFile(join(home, 'api-token'), 'utf8')).trim()
  return { process: proc, client: new ApiClient({ url: proc.info.api, token, home }) }
}

/** Polls `check` until it holds or the deadline passes (no fixed sleeps: a short tick and a deadline). */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export async function connectedPeers(node: ClusterNode): Promise<number> {
  const peers = await node.client.json(PeerListSchema, 'GET', '/v1/peers')
  return peers.filter((p) => p.connected).length
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
