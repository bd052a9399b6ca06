import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  CasNode,
  ConfigError,
  createLogger,
  DEFAULT_API_PORT,
  DEFAULT_P2P_PORT,
  loadConfig,
  type NodeConfig,
} from '../src/index.js'

let home: string
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'cas-config-'))
})
afterEach(async () => {
  await rm(home, { recursive: true, force: true })
})

function load(argv: string[], env: NodeJS.ProcessEnv = {}): NodeConfig {
  const result = loadConfig({ argv: ['--home', home, ...argv], env })
  if (result.kind !== 'run') throw new Error(`expected a run, got ${result.kind}`)
  return result.config
}

function configError(argv: string[], env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    load(argv, env)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('uses the documented defaults when nothing is given', () => {
    const config = load([])
    expect(config).toMatchObject({
      home,
      listen: { host: '127.0.0.1', port: DEFAULT_P2P_PORT },
      apiListen: { host: '127.0.0.1', port: DEFAULT_API_PORT },
      bootstrap: [],
      replication: 2,
      tls: true,
      logLevel: 'info',
    })
  })

  it('takes CAS_HOME when no --home flag is given', () => {
    const result = loadConfig({ argv: [], env: { CAS_HOME: home } })
    expect(result).toMatchObject({ kind: 'run', config: { home } })
  })

  it('lets flags win over the environment, and the environment over the config file', async () => {
    await writeFile(
      join(home, 'config.json'),
      JSON.stringify({ replication: 5, logLevel: 'warn', bootstrap: ['a:1'] }),
    )
    const config = load(['--replication', '2'], { CAS_REPLICATION: '4', CAS_LOG_LEVEL: 'debug' })
    expect(config.replication).toBe(2)
    expect(config.logLevel).toBe('debug')
    expect(config.bootstrap).toEqual(['a:1'])
  })

  it('reads comma-separated bootstrap peers from CAS_BOOTSTRAP', () => {
    expect(load([], { CAS_BOOTSTRAP: '127.0.0.1:4000, 127.0.0.1:4001' }).bootstrap).toEqual([
      '127.0.0.1:4000',
      '127.0.0.1:4001',
    ])
  })

  it('leaves DHT discovery off by default, and reads its bootstrap nodes as a comma-separated list', () => {
    expect(load([])).toMatchObject({ dht: false, dhtBootstrap: [] })
    const config = load(['--dht', 'true'], { CAS_DHT_BOOTSTRAP: '127.0.0.1:49737, dht.example.org:49737' })
    expect(config).toMatchObject({ dht: true, dhtBootstrap: ['127.0.0.1:49737', 'dht.example.org:49737'] })
  })

  it('reads the connection pool bounds, leaving the server defaults when unset', () => {
    expect(load([])).toMatchObject({ maxPeers: undefined, minPeers: undefined })
    expect(load(['--max-peers', '64'], { CAS_MIN_PEERS: '4' })).toMatchObject({ maxPeers: 64, minPeers: 4 })
    for (const bad of ['0', 'many', '2.5', '2000']) {
      expect(configError(['--max-peers', bad])).toMatchObject({ option: 'maxPeers' })
    }
  })

  it('refuses a DHT bootstrap node that is not an IPv4 or named host:port', () => {
    for (const bad of ['127.0.0.1', '[::1]:49737', '127.0.0.1:0', '127.0.0.1:70000']) {
      expect(configError(['--dht-bootstrap', bad])).toMatchObject({ option: 'dhtBootstrap' })
    }
  })

  it('refuses --dht true without --dht-bootstrap at start, before it creates anything', async () => {
    const config = load(['--dht', 'true', '--listen', '127.0.0.1:0', '--api-listen', '127.0.0.1:0'])
    const node = new CasNode({ config, logger: createLogger({ logLevel: 'silent', logFormat: 'json' }) })
    await expect(node.start()).rejects.toMatchObject({ code: 'ERR_CONFIG', option: 'dhtBootstrap' })
    expect(await readdir(home)).toEqual([])
  })

  it('reads :port as that port on loopback, and sizes and durations with units', () => {
    const config = load([
      '--listen',
      ':4000',
      '--quota-total',
      '10GiB',
      '--repair-interval',
      '30s',
      '--repair-grace',
      '2m',
    ])
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 4000 })
    expect(config.quotaTotal).toBe(10 * 1024 ** 3)
    expect(config.repairInterval).toBe(30_000)
    expect(config.repairGrace).toBe(120_000)
  })

  it('reads the peer request and idle timeouts, and refuses a zero one', () => {
    const config = load(['--request-timeout', '3s'], { CAS_IDLE_TIMEOUT: '6000' })
    expect(config.requestTimeout).toBe(3_000)
    expect(config.idleTimeout).toBe(6_000)
    expect(load([]).requestTimeout).toBeUndefined()
    expect(configError(['--idle-timeout', '0'], {}).option).toBe('idleTimeout')
  })

  it('reads the replication rate as a size per second, and refuses a zero one', () => {
    expect(load(['--replication-rate', '10MiB']).replicationRate).toBe(10 * 1024 ** 2)
    expect(load([], { CAS_REPLICATION_RATE: '500000' }).replicationRate).toBe(500_000)
    expect(load([]).replicationRate).toBeUndefined()
    expect(configError(['--replication-rate', '0'], {}).option).toBe('replicationRate')
    expect(load(['--min-free-disk', '1GiB']).minFreeDisk).toBe(1024 ** 3)
    expect(load(['--min-free-disk', '0']).minFreeDisk).toBe(0)
  })

  it('does not echo a secret it refuses (the network key; the passphrase is marked secret too)', () => {
    const almost = 'ab'.repeat(31)
    const err = configError(['--network-key', almost], {})
    expect(err.option).toBe('networkKey')
    expect(err.message).not.toContain(almost)
    expect(err.message).toContain('62 characters (a secret, not shown)')
  })

  it('names the option, where the value came from and what is allowed when a value is bad', () => {
    const err = configError([], { CAS_REPLICATION: 'lots' })
    expect(err.code).toBe('ERR_CONFIG')
    expect(err.option).toBe('replication')
    expect(err.message).toContain('--replication')
    expect(err.message).toContain('CAS_REPLICATION')
    expect(err.message).toContain('a whole number from 1 to 64, or "all"')
  })

  it('refuses an API address that is not loopback', () => {
    const err = configError(['--api-listen', '0.0.0.0:3001'])
    expect(err.option).toBe('apiListen')
    expect(err.message).toContain('loopback')
  })

  it('refuses a port above 65535', () => {
    expect(configError(['--listen', '127.0.0.1:70000']).option).toBe('listen')
  })

  it('refuses an unknown key in the config file and names it', async () => {
    await writeFile(join(home, 'config.json'), JSON.stringify({ replicaton: 2 }))
    const err = configError([])
    expect(err.option).toBe('replicaton')
    expect(err.message).toContain('unknown option "replicaton"')
  })

  it('refuses a config file that is not JSON', async () => {
    await writeFile(join(home, 'config.json'), '{ replication: 2')
    expect(configError([]).message).toContain('not valid JSON')
  })

  it('refuses an unknown flag and points at --help', () => {
    expect(configError(['--replicas', '2']).message).toContain('--help')
  })

  it('skips a leading -- that pnpm passes through', () => {
    const result = loadConfig({ argv: ['--', '--home', home, '--replication', 'all'], env: {} })
    expect(result).toMatchObject({ kind: 'run', config: { replication: 'all' } })
  })

  it('reports an explicit config file that does not exist', () => {
    expect(configError(['--config', join(home, 'missing.json')]).message).toContain(
      'cannot read the config file',
    )
  })
})
