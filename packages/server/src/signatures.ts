import { type OwnerKey, ownerIdOf, sign, verify } from '@cas/crypto'
import { UnauthorizedError } from './errors.js'

/**
 * Owner-signed statements. The payload is a fixed-form text (every field is
 * hex or a decimal integer, so the encoding is unambiguous) with a purpose
 * label, so a signature for one purpose can never be replayed as another.
 */
export type SignedAction = 'delete' | 'head'

export interface ActionFields {
  ownerId: string
  locator: string
  issuedAt: number
  /** SHA-256 (hex) of the bytes the statement covers, for actions that carry some (a head's box). */
  digest?: string
}

export function actionPayload(action: SignedAction, f: ActionFields): Uint8Array {
  const parts = [`cas/${action}/1`, f.ownerId, f.locator, String(f.issuedAt)]
  if (f.digest !== undefined) parts.push(f.digest)
  return new TextEncoder().encode(parts.join('\n'))
}

export function signAction(
  key: OwnerKey,
  action: SignedAction,
  f: ActionFields,
): { ownerPub: Uint8Array; sig: Uint8Array } {
  return { ownerPub: key.publicKeyDer, sig: sign(key, actionPayload(action, f)) }
}

/** Checks that `ownerPub` owns the namespace and signed exactly these fields. */
export function verifyAction(
  action: SignedAction,
  f: ActionFields & { ownerPub: Uint8Array; sig: Uint8Array },
): void {
  if (ownerIdOf(f.ownerPub) !== f.ownerId) {
    throw new UnauthorizedError(`a ${action} for namespace ${f.ownerId.slice(0, 12)} signed by another owner`)
  }
  if (!verify(f.ownerPub, actionPayload(action, f), f.sig)) {
    throw new UnauthorizedError(`bad owner signature on a ${action} request`)
  }
}
