import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { DEFAULT_API_URL, readRuntimeInfo, readToken } from '@cas/api/runtime-info'
import { UsageError } from './errors.js'

export interface ConnectionOptions {
  api?: string | undefined
  home?: string | undefined
  env: NodeJS.ProcessEnv
}

/** Which node to talk to and with which token. */
export interface Connection {
  url: string
  token: string | undefined
  home: string
}

export function homeOf(opts: { home?: string | undefined; env: NodeJS.ProcessEnv }): string {
  return resolve(opts.home ?? opts.env.CAS_HOME ?? join(homedir(), '.cas'))
}

/**
 * --api / CAS_API win; else the address the local node wrote to <home>/node.json; else the
 * default port. The token comes from CAS_TOKEN or <home>/api-token.
 */
export async function resolveConnection(opts: ConnectionOptions): Promise<Connection> {
  const home = homeOf(opts)
  const explicit = opts.api ?? (opts.env.CAS_API || undefined)
  const url = explicit ?? (await readRuntimeInfo(home))?.api ?? DEFAULT_API_URL
  try {
    const parsed = new URL(url)
    if (parsed.protocol !== 'http:') throw new Error('not http')
  } catch {
    throw new UsageError(
      `--api / CAS_API must be an http:// URL such as ${DEFAULT_API_URL}, got ${JSON.stringify(url)}`,
    )
  }
  const token = opts.env.CAS_TOKEN || (await readToken(home))
  return { url: url.replace(/\/+$/, ''), token, home }
}
