import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PeerListSchema } from '@cas/api'
import { ApiClient } from '@cas/api/client'
import { type NodeProcess, startNodeProcess } from './node-process.js'

export interface LocalClusterOptions {
  /** Folder that holds every node's home and log; default a new temp folder, removed by stop(). */
  dir?: string
  /** Flags given to every node, before each node's own. */
  args?: string[]
  /** Environment given to every node. */
  env?: NodeJS.ProcessEnv
  /** Options for node itself given to every node (e.g. `--cpu-prof --cpu-prof-dir=<dir>`). */
  nodeArgs?: string[]
}

export interface AddNodeOptions {
  /** Home folder name inside the cluster folder; default `node<N>`. */
  name?: string
  args?: string[]
  env?: NodeJS.ProcessEnv
  /** P2P addresses to bootstrap from; default every node started so far. */
  bootstrap?: string[]
}

/** One node of a LocalCluster: its process and an API client that holds its token. */
export interface ClusterNode {
  readonly name: string
  readonly process: NodeProcess
  readonly client: ApiClient
  readonly home: string
  readonly token: string
  /** The P2P address the node listens on. */
  readonly p2p: string
  readonly pid: number
}

/**
 * Nodes as real processes on free loopback ports in one folder: what `cas demo`, the benchmarks
 * and the system tests run. stop() ends every node (SIGTERM, then SIGKILL) and removes a temp folder.
 */
export class LocalCluster {
  readonly nodes: ClusterNode[] = []
  readonly #opts: LocalClusterOptions
  #dir: string | undefined
  #ownsDir = false

  constructor(opts: LocalClusterOptions = {}) {
    this.#opts = opts
    this.#dir = opts.dir
  }

  /** The cluster folder (created on first use). */
  async dir(): Promise<string> {
    if (!this.#dir) {
      this.#dir = await mkdtemp(join(tmpdir(), 'cas-cluster-'))
      this.#ownsDir = true
    } else if (!this.#ownsDir) {
      await mkdir(this.#dir, { recursive: true })
    }
    return this.#dir
  }

  async add(opts: AddNodeOptions = {}): Promise<ClusterNode> {
    const name = opts.name ?? `node${this.nodes.length + 1}`
    const bootstrap = opts.bootstrap ?? this.nodes.map((n) => n.p2p)
    return this.#start(name, join(await this.dir(), name), bootstrap, opts)
  }

  /** Starts a node again in the same home (after a crash or stop), bootstrapping from the others. */
  async restart(node: ClusterNode, opts: Omit<AddNodeOptions, 'name'> = {}): Promise<ClusterNode> {
    await node.process.stop()
    this.nodes.splice(this.nodes.indexOf(node), 1)
    const bootstrap = opts.bootstrap ?? this.nodes.filter(isRunning).map((n) => n.p2p)
    return this.#start(node.name, node.home, bootstrap, opts)
  }

  async #start(name: string, home: string, bootstrap: string[], opts: AddNodeOptions): Promise<ClusterNode> {
    const process = await startNodeProcess({
      home,
      logFile: join(await this.dir(), `${name}.log`),
      ...(this.#opts.nodeArgs && { nodeArgs: this.#opts.nodeArgs }),
      args: [
        '--listen',
        '127.0.0.1:0',
        '--api-listen',
        '127.0.0.1:0',
        ...(this.#opts.args ?? []),
        ...(opts.args ?? []),
      ],
      env: { CAS_BOOTSTRAP: bootstrap.join(','), ...this.#opts.env, ...opts.env },
    })
    return this.#track(name, process)
  }

  async #track(name: string, process: NodeProcess): Promise<ClusterNode> {
    const token = (await readFile(join(process.home, 'api-token'), 'utf8')).trim()
    const node: ClusterNode = {
      name,
      process,
      home: process.home,
      token,
      p2p: process.info.p2p,
      pid: process.child.pid ?? -1,
      client: new ApiClient({ url: process.info.api, token }),
    }
    this.nodes.push(node)
    return node
  }

  /** How many peers `node` reports as connected. */
  static async connectedPeers(node: ClusterNode): Promise<number> {
    const peers = await node.client.json(PeerListSchema, 'GET', '/v1/peers')
    return peers.filter((p) => p.connected).length
  }

  async stop(timeout = 5_000): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.process.stop(timeout)))
    this.nodes.length = 0
    if (this.#dir && this.#ownsDir) await rm(this.#dir, { recursive: true, force: true })
    this.#dir = this.#opts.dir
    this.#ownsDir = false
  }
}

function isRunning(node: ClusterNode): boolean {
  return node.process.child.exitCode === null && node.process.child.signalCode === null
}
