import { UsageError } from '../errors.js'

/** The API path of an object by ref: a cid, a name, or the start of a cid (the node resolves it). */
export function objectPath(ref: string): string {
  return `/v1/objects/${encodeURIComponent(ref)}`
}

export function parseReplication(value: string): number | 'all' {
  if (value === 'all') return 'all'
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new UsageError(
      `--replication must be a whole number from 1 to 64, or "all"; got ${JSON.stringify(value)}`,
    )
  }
  return n
}

/** host:port of a peer. */
export function parseAddress(value: string): string {
  if (!/^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/.test(value)) {
    throw new UsageError(`not a peer address (host:port): ${JSON.stringify(value)}`)
  }
  return value
}
