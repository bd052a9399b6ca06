import { InvalidIdError } from './errors.js'

/** cid, locator, ownerId and nodeId are all SHA-256 digests in lowercase hex. */
export const ID_PATTERN = /^[0-9a-f]{64}$/

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value)
}

export function assertId(kind: string, value: string): string {
  if (!isId(value)) throw new InvalidIdError(kind, value)
  return value
}
