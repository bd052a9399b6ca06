import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateOwnerKey, type OwnerKey } from '@cas/crypto'
import {
  createNodeIdentity,
  MemoryNetwork,
  MemoryTransport,
  type NodeIdentity,
  nopHandshake,
  TcpTransport,
} from '@cas/p2p'
import { FileServer, type FileServerOptions, ownerSigner } from '../../src/index.js'

/**
 * `memory`: the in-process transport with the cas/1 handshake (no sockets: most tests run on it);
 * `plain`: TCP on 127.0.0.1 with no handshake; `tls`: TCP with TLS and the cas/1 handshake, as a node runs.
 */
export type TransportMode = 'memory' | 'plain' | 'tls'
/** The modes the protocol suites run over: the in-process transport, and the real wire of a node. */
export const MODES: TransportMode[] = ['memory', 'tls']

/** A transport a test node runs on. */
export type TestTransport = TcpTransport | MemoryTransport

/** One in-process network for every memory transport of this test file (ports are unique in it). */
const memoryNetwork = new MemoryNetwork()

export interface TestNode {
  server: FileServer
  transport: TestTransport
  identity: NodeIdentity
  ownerKey: OwnerKey
  dataDir: string
  addr: string
  stopped: boolean
}

export type NodeOptions = Partial<Omit<FileServerOptions, 'transport'>> & {
  transportOptions?: { requestTimeout?: number; networkKey?: Uint8Array }
}

/** Builds a transport of the given mode (see TransportMode). */
export async function makeTransport(
  mode: TransportMode,
  ownerKey: OwnerKey,
  extra: { requestTimeout?: number; networkKey?: Uint8Array } = {},
  given?: NodeIdentity,
): Promise<{ transport: TestTransport; identity: NodeIdentity }> {
  const identity = given ?? (await createNodeIdentity())
  const owner = ownerSigner(ownerKey)
  const transport =
    mode === 'memory'
      ? new MemoryTransport({ network: memoryNetwork, identity, owner, ...extra })
      : mode === 'plain'
        ? new TcpTransport({ identity, handshake: nopHandshake, ...extra })
        : new TcpTransport({ identity, tls: true, owner, ...extra })
  return { transport, identity }
}

/**
 * For tests that reach into replica files on disk (to damage, replace or find them): every object
 * gets a file of its own, as with packs off. Packed replicas have tests of their own.
 */
export const FILES_ON_DISK = { packBelow: 0 } as const

/** N FileServers in this process on 127.0.0.1 port 0, each in its own temp folder; cleaned up by `close`. */
export class Cluster {
  readonly nodes: TestNode[] = []
  readonly #dirs: string[] = []

  /** `defaults`: options every node of this cluster starts with, before its own. */
  constructor(
    readonly mode: TransportMode,
    readonly defaults: NodeOptions = {},
  ) {}

  async add(given: NodeOptions = {}): Promise<TestNode> {
    const opts = { ...this.defaults, ...given }
    const ownerKey = opts.ownerKey ?? generateOwnerKey()
    const { transport, identity } = await makeTransport(
      this.mode,
      ownerKey,
      opts.transportOptions,
      opts.identity,
    )
    const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'cas-server-test-')))
    this.#dirs.push(dataDir)
    const { transportOptions: _, ...serverOpts } = opts
    const server = new FileServer({
      repairInterval: 0,
      gossipInterval: 200,
      ...serverOpts,
      ownerKey,
      transport,
      identity,
      dataDir,
    })
    await server.start()
    const node: TestNode = {
      server,
      transport,
      identity,
      ownerKey,
      dataDir,
      addr: transport.listenAddr,
      stopped: false,
    }
    this.nodes.push(node)
    return node
  }

  /** Adds `n` nodes, each bootstrapped from the first, and waits for a full mesh. */
  async mesh(n: number, opts: NodeOptions = {}): Promise<TestNode[]> {
    const first = this.nodes[0] ?? (await this.add(opts))
    const added = [first]
    while (added.length < n) added.push(await this.add({ ...opts, bootstrap: [first.addr] }))
    await waitFor(() => added.every((node) => connectedCount(node) >= added.length - 1), {
      what: 'a full mesh',
    })
    return added
  }

  async stop(node: TestNode): Promise<void> {
    if (node.stopped) return
    node.stopped = true
    await node.server.stop({ timeout: 1_000 })
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.nodes.map((node) => this.stop(node)))
    await Promise.all(this.#dirs.map((dir) => rm(dir, { recursive: true, force: true })))
  }
}

export function connectedCount(node: TestNode): number {
  return node.stopped ? 0 : new Set(node.transport.peers().map((p) => p.nodeId)).size
}

/** Polls a condition until it holds, or fails after a deadline saying what was awaited. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  {
    timeout = 20_000,
    interval = 25,
    what = 'a condition',
  }: { timeout?: number; interval?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeout
  for (;;) {
    if (await cond()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}
