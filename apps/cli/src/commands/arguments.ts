import { UsageError } from '../errors.js'

const CID = /^[0-9a-f]{64}$/

export function parseCid(value: string): string {
  if (!CID.test(value))
    throw new UsageError(`not a cid (64 lowercase hex characters): ${JSON.stringify(value)}`)
  return value
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
