import { readFileSync } from 'node:fs'
import { isIPv4 } from 'node:net'
import { type RuntimeInfo, removeRuntimeInfo, writeRuntimeInfo } from '@cas/api/runtime-info'
import { sign } from '@cas/crypto'
import { DASHBOARD_DIR } from '@cas/dashboard'
import { DEFAULT_PING_INTERVAL, TcpTransport } from '@cas/p2p'
import {
  assertNotRunning,
  DhtDiscovery,
  FileServer,
  LanDiscovery,
  type PeerFinder,
  prepareDataDir,
  type TransferEvent,
} from '@cas/server'
import type { Logger } from 'pino'
import type { NodeConfig } from './config-options.js'
import { formatHostPort, type HostPort, isLoopbackHost } from './config-values.js'
import { dashboardState, diskOf } from './dashboard-state.js'
import { ConfigError, PortInUseError } from './errors.js'
import { ApiServer } from './http/api-server.js'
import { type MetricsSnapshot, NodeMetrics } from './metrics.js'
import { assertPortFree } from './port-probe.js'

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version

const P2P_WHAT = 'P2P listen address'
const P2P_OPTION = '--listen or CAS_LISTEN'
const API_WHAT = 'HTTP API address'
const API_OPTION = '--api-listen or CAS_API_LISTEN'

export interface CasNodeOptions {
  config: NodeConfig
  logger: Logger
  /** Called on POST /v1/stop; default: `stop()`. The daemon passes its own (stop, then exit 0). */
  onStopRequest?: () => void
}

/** One cas node: transport, FileServer, HTTP API and metrics, started and stopped together. */
export class CasNode {
  readonly #config: NodeConfig
  readonly #logger: Logger
  #transport: TcpTransport | undefined
  #server: FileServer | undefined
  #api: ApiServer | undefined
  #info: RuntimeInfo | undefined
  #stopping: Promise<void> | undefined
  readonly #onStopRequest: () => void

  constructor({ config, logger, onStopRequest }: CasNodeOptions) {
    this.#config = config
    this.#logger = logger
    this.#onStopRequest = onStopRequest ?? (() => void this.stop().catch(() => undefined))
  }

  get info(): RuntimeInfo | undefined {
    return this.#info
  }

  async start(): Promise<RuntimeInfo> {
    const config = this.#config
    const log = this.#logger
    assertDhtConfig(config)
    await assertNotRunning(config.home)
    await assertPortFree(config.listen, P2P_WHAT, P2P_OPTION)
    await assertPortFree(config.apiListen, API_WHAT, API_OPTION)
    const dir = await prepareDataDir(
      config.home,
      config.passphrase !== undefined ? { passphrase: config.passphrase } : {},
    )
    if (dir.created.ownerKey) log.info({ ownerId: dir.ownerKey.ownerId }, 'created a new owner key')
    try {
      const transport = new TcpTransport({
        identity: dir.identity,
        host: config.listen.host,
        port: config.listen.port,
        tls: config.tls,
        owner: { publicKeyDer: dir.ownerKey.publicKeyDer, sign: (data) => sign(dir.ownerKey, data) },
        ...(config.announce !== undefined && { announceAddr: config.announce }),
        ...(config.networkKey !== undefined && { networkKey: Buffer.from(config.networkKey, 'hex') }),
        ...(config.requestTimeout !== undefined && { requestTimeout: config.requestTimeout }),
        // Pings at a quarter of the idle timeout: a live peer always answers well within it.
        ...(config.idleTimeout !== undefined && {
          idleTimeout: config.idleTimeout,
          pingInterval: Math.max(100, Math.min(DEFAULT_PING_INTERVAL, Math.floor(config.idleTimeout / 4))),
        }),
        logger: log.child({ part: 'p2p' }),
      })
      this.#transport = transport

      const server = new FileServer({
        dataDir: config.home,
        ownerKey: dir.ownerKey,
        identity: dir.identity,
        transport,
        replication: config.replication,
        bootstrap: config.bootstrap,
        finders: peerFinders(config, log),
        ...(config.maxPeers !== undefined && { maxPeers: config.maxPeers }),
        ...(config.minPeers !== undefined && { minPeers: config.minPeers }),
        quota: {
          ...(config.quotaPerOwner !== undefined && { perOwner: config.quotaPerOwner }),
          ...(config.quotaTotal !== undefined && { total: config.quotaTotal }),
        },
        ...(config.replicationRate !== undefined && { replicationRate: config.replicationRate }),
        ...(config.minFreeDisk !== undefined && { minFreeDisk: config.minFreeDisk }),
        ...(config.packBelow !== undefined && { packBelow: config.packBelow }),
        ...(config.auditRate !== undefined && { auditRate: config.auditRate }),
        ...(config.auditInterval !== undefined && { auditInterval: config.auditInterval }),
        ...(config.repairInterval !== undefined && { repairInterval: config.repairInterval }),
        ...(config.catalogueSyncInterval !== undefined && {
          catalogueSyncInterval: config.catalogueSyncInterval,
        }),
        ...(config.repairGrace !== undefined && { repairGrace: config.repairGrace }),
        ...(config.requestTimeout !== undefined && { fetchTimeout: config.requestTimeout }),
        logger: log.child({ part: 'server' }),
      })
      this.#server = server
      // start() makes the transport listen: a taken P2P port surfaces here.
      const p2pAddr = await listenOrExplain(
        () => server.start().then(() => server.listenAddr),
        config.listen,
        P2P_WHAT,
        P2P_OPTION,
      )

      const metrics = new NodeMetrics(() => snapshotOf(server, transport))
      const ui = dashboardState(server, () => this.#info?.api ?? '', DASHBOARD_DIR)
      server.on('transfer', (t: TransferEvent) => {
        metrics.p2pBytes.inc({ direction: t.direction }, t.bytes)
        ui.traffic.add(t.direction === 'in' ? 'p2pIn' : 'p2pOut', t.bytes)
      })
      const startedAt = new Date()
      const api = new ApiServer({
        backend: server,
        metrics,
        token: dir.token,
        logger: log.child({ part: 'api' }),
        stop: this.#onStopRequest,
        ui,
        extraStatus: async () => ({
          version: VERSION,
          pid: process.pid,
          api: this.#info?.api,
          startedAt: startedAt.toISOString(),
          uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
          ...(await diskOf(config.home)),
        }),
      })
      this.#api = api
      const apiAddr = await listenOrExplain(
        () => api.listen(config.apiListen).then(formatHostPort),
        config.apiListen,
        API_WHAT,
        API_OPTION,
      )

      this.#info = {
        pid: process.pid,
        nodeId: server.nodeId,
        ownerId: server.ownerId,
        p2p: p2pAddr,
        api: `http://${apiAddr}`,
        startedAt: startedAt.toISOString(),
        version: VERSION,
      }
      await writeRuntimeInfo(config.home, this.#info)
      log.info({ nodeId: server.nodeId, p2p: p2pAddr, api: this.#info.api, home: config.home }, 'node ready')
      return this.#info
    } catch (err) {
      await this.stop().catch(() => undefined)
      throw err
    }
  }

  /** Stops accepting requests, lets transfers finish (up to shutdownTimeout), closes everything. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  async #stop(): Promise<void> {
    const log = this.#logger
    await this.#api?.close(this.#config.shutdownTimeout)
    // The server closes the transport and the catalogue; without a server only the transport is open.
    if (this.#server) await this.#server.stop({ timeout: this.#config.shutdownTimeout })
    else await this.#transport?.close()
    if (this.#info) {
      await removeRuntimeInfo(this.#config.home)
      log.info({}, 'node stopped')
    }
  }
}

async function listenOrExplain(
  listen: () => Promise<string>,
  addr: HostPort,
  what: string,
  option: string,
): Promise<string> {
  try {
    return await listen()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError(formatHostPort(addr), what, option)
    }
    throw err
  }
}

async function snapshotOf(server: FileServer, transport: TcpTransport): Promise<MetricsSnapshot> {
  const status = await server.status()
  return {
    objects: status.objects,
    bytes: status.bytes,
    peers: status.peers.connected,
    repair: status.repair,
    inbound: transport.inboundStats,
    chunksRead: server.counters().chunksRead,
    audits: status.audits,
  }
}

/** `--dht true` needs DHT nodes of the user's to join through: the finder has no public default. */
function assertDhtConfig(config: NodeConfig): void {
  if (config.dht && config.dhtBootstrap.length === 0) {
    throw new ConfigError(
      'dhtBootstrap',
      '--dht / CAS_DHT is true but --dht-bootstrap / CAS_DHT_BOOTSTRAP is empty; give the host:port of at least one DHT node to join through (there is no public default)',
    )
  }
}

/**
 * LAN discovery when asked for, or by default when the node listens beyond loopback: on the
 * interface of the listen address when it names one, else on every interface. DHT discovery when
 * asked for, under the topic of the network key.
 */
function peerFinders(config: NodeConfig, logger: Logger): PeerFinder[] {
  const finders: PeerFinder[] = []
  const { host } = config.listen
  const lan = config.lanDiscovery === 'auto' ? !isLoopbackHost(host) : config.lanDiscovery
  if (lan) {
    const iface = host === 'localhost' ? '127.0.0.1' : isIPv4(host) && host !== '0.0.0.0' ? host : undefined
    finders.push(
      new LanDiscovery({
        port: config.lanDiscoveryPort,
        ...(iface !== undefined && { interface: iface }),
        logger: logger.child({ part: 'lan' }),
      }),
    )
  }
  if (config.dht) {
    const dhtLog = logger.child({ part: 'dht' })
    if (isLoopbackHost(host) && config.announce === undefined) {
      dhtLog.warn(
        { listen: formatHostPort(config.listen) },
        'DHT discovery announces a loopback address, which only nodes on this host can dial; set --listen or --announce',
      )
    }
    finders.push(
      new DhtDiscovery({
        bootstrap: config.dhtBootstrap,
        ...(config.networkKey !== undefined && { networkKey: Buffer.from(config.networkKey, 'hex') }),
        logger: dhtLog,
      }),
    )
  }
  return finders
}
