import { DEFAULT_API_PORT } from '@cas/api/runtime-info'
import { DEFAULT_LAN_DISCOVERY_PORT, DEFAULT_REPLICATION } from '@cas/server'
import * as z from 'zod'
import {
  type HostPort,
  isLoopbackHost,
  zBoolean,
  zBooleanOrAuto,
  zBytes,
  zDuration,
  zHostPort,
  zList,
} from './config-values.js'

export { DEFAULT_API_PORT }

export const DEFAULT_P2P_HOST = '127.0.0.1'
export const DEFAULT_P2P_PORT = 3000
export { DEFAULT_REPLICATION }
export const DEFAULT_SHUTDOWN_TIMEOUT = 10_000
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const

export interface NodeConfig {
  /** Data directory: keys, token, store, catalogue. */
  home: string
  /** P2P listen address. */
  listen: HostPort
  /** Address announced to peers; default the bound listen address. */
  announce: string | undefined
  /** HTTP API address; loopback only. */
  apiListen: HostPort
  bootstrap: string[]
  /** Find and announce nodes on the LAN by mDNS; 'auto': on unless the node listens on loopback. */
  lanDiscovery: boolean | 'auto'
  /** The UDP port of LAN discovery (5353, mDNS's own); nodes find only those on the same port. */
  lanDiscoveryPort: number
  /** Most nodes connected at once (the connection pool's bound); undefined is the server default (32). */
  maxPeers: number | undefined
  /** Connections discovery keeps open on its own; undefined is the server default (8). */
  minPeers: number | undefined
  /** Find and announce nodes on a hyperdht DHT, under the topic of the network key. */
  dht: boolean
  /** host:port of the DHT nodes to join through; required with `dht`, as there is no public default. */
  dhtBootstrap: string[]
  replication: number | 'all'
  tls: boolean
  /** 32-byte hex key; peers without it are refused. */
  networkKey: string | undefined
  passphrase: string | undefined
  quotaPerOwner: number | undefined
  quotaTotal: number | undefined
  /** Most replica bytes per second sent to holders (puts' fan-out, repair); undefined is unlimited. */
  replicationRate: number | undefined
  /** Free disk kept for this node: stores for others are refused below it; undefined is the server default. */
  minFreeDisk: number | undefined
  /** Objects of at most this many bytes on disk go to pack files; 0 gives each a file. */
  packBelow: number | undefined
  /** Bytes per second spent auditing holders (random chunks fetched and checked); 0 turns audits off. */
  auditRate: number | undefined
  /** Pause between audit rounds. */
  auditInterval: number | undefined
  repairInterval: number | undefined
  /** How often the catalogue is gathered from the owner's other devices; 0 only at start and on request. */
  catalogueSyncInterval: number | undefined
  /** How long a holder may be unreachable before its replicas are made elsewhere. */
  repairGrace: number | undefined
  /** How long a peer has to answer a request, and the longest silence inside a transfer. */
  requestTimeout: number | undefined
  /** A peer connection silent this long (no frame, not even a pong) is closed as dead. */
  idleTimeout: number | undefined
  logLevel: (typeof LOG_LEVELS)[number]
  logFormat: 'auto' | 'json' | 'pretty'
  shutdownTimeout: number
}

export interface OptionSpec {
  key: Exclude<keyof NodeConfig, 'home'>
  flag: string | undefined
  env: string
  allowed: string
  schema: z.ZodType
  default: string | undefined
  help: string
  /** Never echoed in errors or logs (a network key, a passphrase). */
  secret?: boolean
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/i)
/** hyperdht takes IPv4 addresses and names, not IPv6. */
const dhtNode = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/)
  .refine((a) => {
    const port = Number(a.slice(a.lastIndexOf(':') + 1))
    return port >= 1 && port <= 65_535
  })
const apiAddress = zHostPort('127.0.0.1').refine((a) => isLoopbackHost(a.host))
const replication = z.union([z.number(), z.string()]).transform((v, ctx): number | 'all' => {
  if (v === 'all') return 'all'
  const n = typeof v === 'number' ? v : /^\d+$/.test(v.trim()) ? Number(v) : Number.NaN
  if (Number.isInteger(n) && n >= 1 && n <= 64) return n
  ctx.addIssue({ code: 'custom', message: 'not a replication factor' })
  return 0
})

/** Every option: its flag, its environment variable, what is allowed, its default. */
export const OPTIONS: readonly OptionSpec[] = [
  opt(
    'listen',
    '--listen',
    'CAS_LISTEN',
    'host:port, [v6]:port or :port',
    zHostPort(DEFAULT_P2P_HOST),
    `${DEFAULT_P2P_HOST}:${DEFAULT_P2P_PORT}`,
    'P2P listen address (:port = that port on 127.0.0.1; 0.0.0.0:port for all interfaces)',
  ),
  opt(
    'announce',
    '--announce',
    'CAS_ANNOUNCE',
    'host:port',
    z.string().regex(/^.+:\d{1,5}$/),
    undefined,
    'address announced to peers (default: the bound listen address)',
  ),
  opt(
    'apiListen',
    '--api-listen',
    'CAS_API_LISTEN',
    'a loopback host:port (127.0.0.1, ::1 or localhost)',
    apiAddress,
    `127.0.0.1:${DEFAULT_API_PORT}`,
    'local HTTP API address',
  ),
  opt(
    'bootstrap',
    '--bootstrap',
    'CAS_BOOTSTRAP',
    'comma-separated host:port addresses',
    zList.pipe(z.array(z.string().regex(/^.+:\d{1,5}$/))),
    '',
    'peers to dial at start',
  ),
  opt(
    'lanDiscovery',
    '--lan-discovery',
    'CAS_LAN_DISCOVERY',
    'auto, true or false',
    zBooleanOrAuto,
    'auto',
    'find and announce nodes on the local network by mDNS (auto: on unless listening on loopback)',
  ),
  opt(
    'lanDiscoveryPort',
    '--lan-discovery-port',
    'CAS_LAN_DISCOVERY_PORT',
    'a UDP port from 1 to 65535',
    z.coerce.number().int().min(1).max(65_535),
    String(DEFAULT_LAN_DISCOVERY_PORT),
    "UDP port of LAN discovery (mDNS's 5353); nodes find only those on the same port",
  ),
  opt(
    'dht',
    '--dht',
    'CAS_DHT',
    'true or false',
    zBoolean,
    'false',
    'find and announce nodes on a hyperdht DHT, under a topic derived from the network key',
  ),
  opt(
    'dhtBootstrap',
    '--dht-bootstrap',
    'CAS_DHT_BOOTSTRAP',
    'comma-separated host:port addresses (IPv4 or names)',
    zList.pipe(z.array(dhtNode)),
    '',
    'DHT nodes to join through; required with --dht true (there is no public default)',
  ),
  opt(
    'maxPeers',
    '--max-peers',
    'CAS_MAX_PEERS',
    'a whole number from 1 to 1024',
    z.coerce.number().int().min(1).max(1024),
    undefined,
    'most nodes connected at once; the least recently used idle connections close past it (default 32)',
  ),
  opt(
    'minPeers',
    '--min-peers',
    'CAS_MIN_PEERS',
    'a whole number from 0 to 1024',
    z.coerce.number().int().min(0).max(1024),
    undefined,
    'connections discovery keeps open on its own, at most max-peers (default 8)',
  ),
  opt(
    'replication',
    '--replication',
    'CAS_REPLICATION',
    'a whole number from 1 to 64, or "all"',
    replication,
    String(DEFAULT_REPLICATION),
    'replicas wanted per object',
  ),
  opt(
    'tls',
    '--tls',
    'CAS_TLS',
    'true or false',
    zBoolean,
    'true',
    'TLS 1.3 with mutual node authentication',
  ),
  opt(
    'networkKey',
    '--network-key',
    'CAS_NETWORK_KEY',
    '64 hex characters',
    hex64,
    undefined,
    'shared key of a private network',
    true,
  ),
  opt(
    'passphrase',
    undefined,
    'CAS_PASSPHRASE',
    'any string',
    z.string().min(1),
    undefined,
    'passphrase sealing the owner key (environment only)',
    true,
  ),
  opt(
    'quotaPerOwner',
    '--quota-per-owner',
    'CAS_QUOTA_PER_OWNER',
    'a size such as 1073741824 or 10GiB',
    zBytes,
    undefined,
    'bytes held for each other owner',
  ),
  opt(
    'quotaTotal',
    '--quota-total',
    'CAS_QUOTA_TOTAL',
    'a size such as 1073741824 or 10GiB',
    zBytes,
    undefined,
    'bytes held for all other owners',
  ),
  opt(
    'replicationRate',
    '--replication-rate',
    'CAS_REPLICATION_RATE',
    'bytes per second, a size such as 10MiB',
    zBytes.refine((n) => n > 0, 'must be above 0'),
    undefined,
    'most bytes per second sent to holders by puts and repair (default unlimited)',
  ),
  opt(
    'packBelow',
    '--pack-below',
    'CAS_PACK_BELOW',
    'a size such as 65536 or 64KiB; 0 gives every object a file',
    zBytes,
    undefined,
    'objects of at most this size are appended to pack files, written together with one fsync (default 64KiB)',
  ),
  opt(
    'minFreeDisk',
    '--min-free-disk',
    'CAS_MIN_FREE_DISK',
    'a size such as 268435456 or 1GiB; 0 turns the check off',
    zBytes,
    undefined,
    'free disk kept for this node: replicas for others are refused below it (default 256MiB)',
  ),
  opt(
    'auditRate',
    '--audit-rate',
    'CAS_AUDIT_RATE',
    'bytes per second, a size such as 64KiB; 0 turns audits off',
    zBytes,
    undefined,
    'most bytes per second fetched to audit holders: a random chunk of each replica, checked (default 64KiB)',
  ),
  opt(
    'auditInterval',
    '--audit-interval',
    'CAS_AUDIT_INTERVAL',
    'a duration such as 600000, 30s or 10m',
    zDuration,
    undefined,
    'pause between audit rounds, each auditing every holder once (default 10m)',
  ),
  opt(
    'repairInterval',
    '--repair-interval',
    'CAS_REPAIR_INTERVAL',
    'a duration such as 60000, 30s or 5m',
    zDuration,
    undefined,
    'how often replicas are checked',
  ),
  opt(
    'catalogueSyncInterval',
    '--catalogue-sync-interval',
    'CAS_CATALOGUE_SYNC_INTERVAL',
    'a duration such as 60000, 30s or 5m; 0 turns it off',
    zDuration,
    undefined,
    "how often the catalogue is gathered from the owner's other devices (default 1m; also when the first peer connects)",
  ),
  opt(
    'repairGrace',
    '--repair-grace',
    'CAS_REPAIR_GRACE',
    'a duration such as 60000, 30s or 5m',
    zDuration,
    undefined,
    'how long a holder may be gone before its replicas are remade',
  ),
  opt(
    'requestTimeout',
    '--request-timeout',
    'CAS_REQUEST_TIMEOUT',
    'a duration such as 15s',
    zDuration.refine((n) => n > 0, 'must be above 0'),
    undefined,
    'how long a peer may stay silent in a request or transfer (default 15s fetch, 30s replica)',
  ),
  opt(
    'idleTimeout',
    '--idle-timeout',
    'CAS_IDLE_TIMEOUT',
    'a duration such as 60s',
    zDuration.refine((n) => n > 0, 'must be above 0'),
    undefined,
    'a peer silent this long (a paused process, a cut link) is dropped (default 60s)',
  ),
  opt(
    'logLevel',
    '--log-level',
    'CAS_LOG_LEVEL',
    LOG_LEVELS.join(', '),
    z.enum(LOG_LEVELS),
    'info',
    'log level',
  ),
  opt(
    'logFormat',
    '--log-format',
    'CAS_LOG_FORMAT',
    'auto, json or pretty',
    z.enum(['auto', 'json', 'pretty']),
    'auto',
    'pretty when stdout is a TTY (auto)',
  ),
  opt(
    'shutdownTimeout',
    '--shutdown-timeout',
    'CAS_SHUTDOWN_TIMEOUT',
    'a duration such as 10s',
    zDuration,
    String(DEFAULT_SHUTDOWN_TIMEOUT),
    'how long transfers may finish on SIGTERM',
  ),
]

function opt(
  key: OptionSpec['key'],
  flag: string | undefined,
  env: string,
  allowed: string,
  schema: z.ZodType,
  def: string | undefined,
  help: string,
  secret = false,
): OptionSpec {
  return { key, flag, env, allowed, schema, default: def, help, ...(secret && { secret }) }
}
