import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import * as z from 'zod'
import { type NodeConfig, OPTIONS } from './config-options.js'
import { ConfigError } from './errors.js'

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
        `invalid ${name}: ${spec.secret ? `a value of ${String(raw).length} characters (a secret, not shown)` : JSON.stringify(raw)} (from ${source}); allowed: ${spec.allowed}`,
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
    `  ${'--home <dir>'.padEnd(24)}${'CAS_HOME'.padEnd(22)}data directory (default ~/.cas)`,
    `  ${'--config <file>'.padEnd(24)}${'CAS_CONFIG'.padEnd(22)}JSON config file (default <home>/config.json)`,
  ]
  for (const spec of OPTIONS) {
    const flag = spec.flag ? `${spec.flag} <v>` : ''
    const def = spec.default ? ` (default ${spec.default})` : ''
    lines.push(`  ${flag.padEnd(24)}${spec.env.padEnd(22)}${spec.help}${def}`)
  }
  return lines.join('\n')
}
