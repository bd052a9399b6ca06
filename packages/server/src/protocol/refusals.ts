import { errorCode } from '../errors.js'
import type { Logger } from '../logger.js'

/** Refusals worth an operator's eye: a peer that forges, sends garbage or breaks a bound. */
const LOGGED_REFUSALS = new Set([
  'ERR_UNAUTHORIZED',
  'ERR_BAD_REQUEST',
  'ERR_REPLICA_MISMATCH',
  'ERR_STALE_REPLICA',
])

/**
 * Logs a peer's request refused with one of the codes above, with the peer, the op and the reason; other
 * refusals (a full quota, a busy node) are the peer's to report. p2p only logs a handler's failures at
 * debug, and a batch answers its refused items without failing: a refused forgery must leave a reason.
 */
export function logRefusal(logger: Logger, nodeId: string, op: unknown, err: unknown): void {
  const code = errorCode(err)
  if (code === undefined || !LOGGED_REFUSALS.has(code)) return
  logger.warn(
    { nodeId, op: typeof op === 'string' ? op.slice(0, 32) : undefined, code, err: String(err) },
    'refused a peer request',
  )
}
