/** Base of every error this package throws; callers branch on `code`. */
export class ServerError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

/** No local copy and no reachable peer served the object. */
export class NotFoundError extends ServerError {
  constructor(
    readonly ref: string,
    message = `object ${ref} was not found locally or on any reachable peer`,
    /** Peers asked, with the reason each one did not serve it. */
    readonly skipped: { nodeId: string; code: string; message: string }[] = [],
  ) {
    const reasons = skipped.filter((s) => s.code !== 'ERR_NOT_FOUND')
    super(
      'ERR_NOT_FOUND',
      reasons.length === 0
        ? message
        : `${message} (${reasons.map((s) => `${s.nodeId.slice(0, 12)}: ${s.code} ${s.message}`).join('; ')})`,
    )
  }
}

/**
 * No peer served the object, and at least one did not answer in time or dropped the connection: the
 * object may well be there (a paused or partitioned holder), so this is a timeout to retry, not a 404.
 */
export class HoldersUnreachableError extends ServerError {
  constructor(
    readonly ref: string,
    /** Peers asked, with the reason each one did not serve it. */
    readonly skipped: { nodeId: string; code: string; message: string }[],
  ) {
    const reasons = skipped.filter((s) => s.code !== 'ERR_NOT_FOUND')
    super(
      'ERR_TIMEOUT',
      `no peer served ${ref} in time; try again once its holders answer (${reasons.map((s) => `${s.nodeId.slice(0, 12)}: ${s.code} ${s.message}`).join('; ')})`,
    )
  }
}

/** The local copy failed its hash and no peer served a good replica to replace it. */
export class DamagedObjectError extends ServerError {
  constructor(
    readonly cid: string,
    cause?: unknown,
  ) {
    super(
      'ERR_INTEGRITY',
      `the local copy of ${cid} is damaged and no peer served a good replica${cause instanceof Error ? ` (${cause.message})` : ''}`,
      { cause },
    )
  }
}

/** Every holder that answered served bytes that do not verify, and no good copy is left. */
export class DamagedReplicasError extends ServerError {
  constructor(
    readonly cid: string,
    readonly skipped: { nodeId: string; code: string; message: string }[],
  ) {
    super(
      'ERR_INTEGRITY',
      `every replica of ${cid} that was served failed its check (${skipped.map((s) => `${s.nodeId.slice(0, 12)}: ${s.code}`).join('; ')}); no good copy is left to serve`,
    )
  }
}

/** An object above the largest a replica can describe. */
export class ObjectTooLargeError extends ServerError {
  constructor(readonly max: number) {
    super('ERR_TOO_LARGE', `objects are limited to ${max} bytes in this format`)
  }
}

/** A node refused a replica because it would pass its per-owner quota or its total limit. */
export class QuotaExceededError extends ServerError {
  constructor(
    readonly scope: 'owner' | 'total',
    readonly requested: number,
    readonly limit: number,
  ) {
    super('ERR_QUOTA', `storing ${requested} more bytes would exceed the ${scope} quota of ${limit} bytes`)
  }
}

/** A replica refused because the disk would keep less than `minFreeDisk` free. */
export class LowDiskError extends ServerError {
  constructor(
    readonly minFree: number,
    readonly minFreeInodes?: number,
  ) {
    super(
      'ERR_DISK_FULL',
      minFreeInodes === undefined
        ? `this node keeps at least ${minFree} bytes of its disk free and takes no more replicas for others`
        : `this node keeps at least ${minFreeInodes} inodes of its disk free and takes no more replicas for others`,
    )
  }
}

/** A write or delete in a namespace that the signer does not own, or a bad signature. */
export class UnauthorizedError extends ServerError {
  constructor(message: string) {
    super('ERR_UNAUTHORIZED', message)
  }
}

/** A cid, locator, owner id or node id that is not 64 lowercase hex characters. */
export class InvalidIdError extends ServerError {
  constructor(
    readonly kind: string,
    readonly value: string,
  ) {
    super(
      'ERR_INVALID_ID',
      `invalid ${kind} ${JSON.stringify(value.slice(0, 80))}: expected 64 lowercase hex characters`,
    )
  }
}

/** An object name that is empty, too long for the catalogue, or holds control characters. */
export class InvalidNameError extends ServerError {
  constructor(
    readonly value: string,
    reason: string,
  ) {
    super('ERR_INVALID_NAME', `invalid name ${JSON.stringify(value.slice(0, 80))}: ${reason}`)
  }
}

/** A capability string that does not parse or fails its schema. */
export class InvalidCapabilityError extends ServerError {
  constructor(reason: string) {
    super('ERR_INVALID_CAPABILITY', `invalid capability: ${reason}`)
  }
}

/** Received replica bytes that are not those the owner's commit lists (a replay with other bytes, damage in transit or on disk). */
export class ReplicaMismatchError extends ServerError {
  constructor(message: string) {
    super('ERR_REPLICA_MISMATCH', message)
  }
}

/** A store signed before the replica already held (an older upload, or a replay of one). */
export class StaleReplicaError extends ServerError {
  constructor(message: string) {
    super('ERR_STALE_REPLICA', message)
  }
}

/** A holder that fell behind its queue bound during a put, or stopped answering; it was dropped from the put. */
export class HolderStalledError extends ServerError {
  constructor(
    readonly nodeId: string,
    readonly ms: number,
  ) {
    super('ERR_HOLDER_STALLED', `holder ${nodeId.slice(0, 12)} made no progress for ${ms} ms during a put`)
  }
}

/** A data directory written by an earlier, unreadable format. */
export class UnsupportedFormatError extends ServerError {
  constructor(
    readonly path: string,
    readonly found: number,
  ) {
    super(
      'ERR_UNSUPPORTED_FORMAT',
      `${path} holds cas format ${found} data, which this version (format 2) cannot read; it is left untouched: start this node with a new data directory (or remove that one)`,
    )
  }
}

/** A peer sent more bytes than it declared, or a declared size that cannot be right. */
export class SizeMismatchError extends ServerError {
  constructor(message: string) {
    super('ERR_SIZE_MISMATCH', message)
  }
}

/** A peer did not answer, or stopped sending, within the allowed time. */
export class PeerTimeoutError extends ServerError {
  constructor(
    readonly nodeId: string,
    readonly ms: number,
  ) {
    super('ERR_PEER_TIMEOUT', `peer ${nodeId.slice(0, 12)} sent nothing for ${ms} ms`)
  }
}

/** A request body that fails the application schema. */
export class BadRequestError extends ServerError {
  constructor(message: string) {
    super('ERR_BAD_REQUEST', message)
  }
}

/** A peer sent gossip faster than the per-source bound allows. */
export class RateLimitedError extends ServerError {
  constructor(readonly nodeId: string) {
    super('ERR_RATE_LIMITED', `peer ${nodeId.slice(0, 12)} sent gossip too often`)
  }
}

/** A get's byte range that is not two integers >= 0 with start <= end. */
export class InvalidRangeError extends ServerError {
  constructor(start: number | undefined, end: number | undefined) {
    super('ERR_INVALID_RANGE', `invalid range start=${start} end=${end}: integers >= 0 with start <= end`)
  }
}

/** A FileServer option out of range. */
export class InvalidOptionsError extends ServerError {
  constructor(message: string) {
    super('ERR_INVALID_OPTIONS', `invalid FileServer option ${message}`)
  }
}

/** The server is not started, or is stopping. */
export class NotRunningError extends ServerError {
  constructor(state: string) {
    super('ERR_NOT_RUNNING', `the file server is ${state}`)
  }
}

/** The code of an error, including a remote error's code carried as `remoteCode` by @cas/p2p. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const e = err as { code?: unknown; remoteCode?: unknown }
  if (typeof e.remoteCode === 'string') return e.remoteCode
  return typeof e.code === 'string' ? e.code : undefined
}

/** A name or cid prefix that matches more than one object: the candidates are listed, nothing is done. */
export class AmbiguousRefError extends ServerError {
  constructor(
    readonly ref: string,
    readonly candidates: { cid: string; names: string[] }[],
    what = 'objects; use more of the cid',
  ) {
    super(
      'ERR_AMBIGUOUS',
      `${JSON.stringify(ref.slice(0, 80))} matches ${candidates.length} ${what}: ` +
        candidates.map((c) => `${c.cid}${c.names.length > 0 ? ` (${c.names.join(', ')})` : ''}`).join('; '),
    )
  }
}

/** The node's data directory cannot be made, read or used (a file in its place, another owner's key). */
export class DataDirError extends ServerError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_DATA_DIR', message, options)
  }
}

/** Another live node process already uses this data directory. */
export class NodeRunningError extends ServerError {
  constructor(
    readonly home: string,
    readonly pid: number,
  ) {
    super('ERR_NODE_RUNNING', `a node (pid ${pid}) already runs with the data directory ${home}`)
  }
}
