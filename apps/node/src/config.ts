import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { z } from 'zod'
import {
  type HostPort,
  isLoopbackHost,
  zBoolean,
  zBytes,
  zDuration,
  zHostPort,
  zList,
} from './config-values.js'
import { ConfigError } from './errors.js'
import { DEFAULT_API_PORT } from './runtime-info.js'

export { DEFAULT_API_PORT }

export const DEFAULT_P2P_HOST = '127.0.0.1'
export const DEFAULT_P2P_PORT = 3000
export const DEFAULT_REPLICATION = 3
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
  replication: number | 'all'
  tls: boolean
  /** 32-byte hex key; peers without it are refused. */
  networkKey: string | undefined
  passphrase: string | undefined
  quotaPerOwner: number | undefined
  quotaTotal: number | undefined
  repairInterval: number | undefined
  logLevel: (typeof LOG_LEVELS)[number]
  logFormat: 'auto' | 'json' | 'pretty'
  shutdownTimeout: number
}

interface OptionSpec {
  key: Exclude<keyof NodeConfig, 'home'>
  flag: string | undefined
  env: string
  allowed: string
  schema: z.ZodType
  default: string | undefined
  help: string
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/i)
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
    'P2P listen address (:port = all interfaces)',
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
  ),
  opt(
    'passphrase',
    undefined,
    'CAS_PASSPHRASE',
    'any string',
    z.string().min(1),
    undefined,
    'passphrase sealing the owner key (environment only)',
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
    'repairInterval',
    '--repair-interval',
    'CAS_REPAIR_INTERVAL',
    'a duration such as 60000, 30s or 5m',
    zDuration,
    undefined,
    'how often replicas are checked',
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
): OptionSpec {
  return { key, flag, env, allowed, schema, default: def, help }
}

export interface LoadConfigInput {
  argv: readonly string[]
  env: NodeJS.ProcessEnv
}

export type LoadConfigResult =
  | { kind: 'run'; config: NodeConfig; configFile: string | undefined }
  | { kind: 'help' }
  | { kind: 'version' }

const FileSchema = z.record(z.string(), z.unknown())

/** Merges flags over `CAS_*` variables over the config file over defaults, validating each value. */
export function loadConfig({ argv, env }: LoadConfigInput): LoadConfigResult {
  const flags = parseFlags(argv)
  if (flags.help) return { kind: 'help' }
  if (flags.version) return { kind: 'version' }
  const home = resolve(str(flags.home) ?? env.CAS_HOME ?? join(homedir(), '.cas'))
  const explicitFile = str(flags.config) ?? env.CAS_CONFIG
  const file = explicitFile ? resolve(explicitFile) : join(home, 'config.json')
  const fromFile = readConfigFile(file, explicitFile !== undefined)

  const values: Record<string, unknown> = { home }
  for (const spec of OPTIONS) {
    const candidates: [unknown, string][] = [
      [spec.flag ? flags[spec.flag.slice(2)] : undefined, spec.flag ?? ''],
      [env[spec.env], spec.env],
      [fromFile?.[spec.key], `"${spec.key}" in ${file}`],
    ]
    // An empty environment variable counts as unset, as shells make it easy to export one by accident.
    const found =
      candidates.find(([v]) => v !== undefined && v !== '') ??
      (spec.default !== undefined ? [spec.default, 'the default'] : undefined)
    if (!found) {
      values[spec.key] = undefined
      continue
    }
    const [raw, source] = found
    const parsed = spec.schema.safeParse(raw)
    if (!parsed.success) {
      const name = spec.flag ? `${spec.flag} / ${spec.env}` : spec.env
      throw new ConfigError(
        spec.key,
        `invalid ${name}: ${JSON.stringify(raw)} (from ${source}); allowed: ${spec.allowed}`,
      )
    }
    values[spec.key] = parsed.data
  }
  return { kind: 'run', config: values as unknown as NodeConfig, configFile: fromFile ? file : undefined }
}

function parseFlags(argv: readonly string[]): Record<string, string | boolean | undefined> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    home: { type: 'string' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  }
  for (const spec of OPTIONS) if (spec.flag) options[spec.flag.slice(2)] = { type: 'string' }
  // `pnpm --filter node start -- --listen …` passes the `--` through: skip it.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv]
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err)
    throw new ConfigError('argv', `${message}; run with --help for the list of options`)
  }
}

function readConfigFile(file: string, required: boolean): Record<string, unknown> | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new ConfigError('config', `cannot read the config file ${file}: ${(err as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new ConfigError('config', `the config file ${file} is not valid JSON: ${(err as Error).message}`)
  }
  const parsed = FileSchema.safeParse(json)
  if (!parsed.success) throw new ConfigError('config', `the config file ${file} must hold a JSON object`)
  const known = new Set<string>(OPTIONS.map((o) => o.key))
  known.delete('passphrase')
  for (const key of Object.keys(parsed.data)) {
    if (!known.has(key)) {
      throw new ConfigError(key, `unknown option "${key}" in ${file}; allowed: ${[...known].join(', ')}`)
    }
  }
  return parsed.data
}

function str(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined
}

/** Where each option comes from, for `--help`. */
export function helpText(): string {
  const lines = [
    'usage: cas-node [options]',
    '',
    'Every option is also read from its CAS_* environment variable and from a JSON config',
    'file (--config / CAS_CONFIG, default <home>/config.json); flags win over the',
    'environment, which wins over the file.',
    '',
    `  --home <dir>          CAS_HOME        data directory (default ~/.cas)`,
    `  --config <file>       CAS_CONFIG      config file`,
  ]
  for (const spec of OPTIONS) {
    const flag = spec.flag ? `${spec.flag} <v>` : ''
    const def = spec.default ? ` (default ${spec.default})` : ''
    lines.push(`  ${flag.padEnd(22)}${spec.env.padEnd(21)}${spec.help}${def}`)
  }
  return lines.join('\n')
}
