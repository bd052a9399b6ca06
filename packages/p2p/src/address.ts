import { isIP } from 'node:net'
import { InvalidArgumentError } from './errors.js'

/** 'host:port' or '[v6]:port'; the host has no spaces, colons or brackets. */
export const ADDRESS_PATTERN = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/

/** Splits 'host:port' (or '[v6]:port'). */
export function parseAddress(addr: string): { host: string; port: number } {
  const m = ADDRESS_PATTERN.exec(addr)
  const port = m ? Number(m[3]) : Number.NaN
  if (!m || port < 1 || port > 65535)
    throw new InvalidArgumentError(`not a host:port address: ${JSON.stringify(addr)}`)
  return { host: (m[1] ?? m[2])!, port }
}

export function formatAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}
