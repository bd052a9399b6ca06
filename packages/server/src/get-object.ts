import { createHash } from 'node:crypto'
import type { ServerContext } from './context.js'
import { DamagedObjectError, errorCode, InvalidRangeError } from './errors.js'
import { type FetchResult, fetchInto } from './fetch.js'
import { rankNodes } from './rendezvous.js'
import type { GetOptions, GetResult, Replication } from './types.js'

/** What a get needs to find and open one object: from a cid and the owner's keys, or from a capability. */
export interface GetTarget {
  cid: string
  ownerId: string
  locator: string
  fileKey: Uint8Array
  fileMacKey: Uint8Array
  size: number | undefined
  /** Another owner's object, read through a capability. */
  shared: boolean
}

/**
 * Serves gets: the local copy once it re-hashes to its cid, else a verified
 * fetch into the store first (which also replaces a damaged local copy).
 * Concurrent gets of one missing object share one fetch. Holders that failed
 * to serve a good replica are handed to `onBadHolders` to be sent a fresh one.
 */
export class Getter {
  readonly #fetches = new Map<string, Promise<FetchResult>>()

  constructor(private readonly onBadHolders: (cid: string, nodeIds: string[]) => void = () => {}) {}

  async get(
    ctx: ServerContext,
    target: GetTarget,
    opts: GetOptions & { signal: AbortSignal },
    replication: Replication,
  ): Promise<GetResult> {
    const range = byteRange(opts)
    const { cid } = target
    const self = { namespace: 'self' }
    let damaged = false
    if (await ctx.store.has(cid, self)) {
      // Bit rot, a truncation or a damaged header: local plaintext has no per-chunk tags, so the whole
      // copy is re-hashed before a byte of it is released.
      if (await intact(ctx, cid, opts.signal)) {
        const { size } = await ctx.store.stat(cid, self)
        return { cid, size, stream: ctx.store.read(cid, { ...self, ...range }), source: 'local', skipped: [] }
      }
      damaged = true
      ctx.logger.warn({ cid }, 'local copy is damaged: fetching a good replica to replace it')
    }
    const live = [...new Set(ctx.transport.peers().map((p) => p.nodeId))]
    const holders = target.shared ? [] : (ctx.catalogue.getObject(cid)?.holders ?? [])
    const candidates = [
      ...new Set([...holders.filter((h) => live.includes(h)), ...rankNodes(target.locator, live)]),
    ]
    let done = 0
    const job = {
      ...target,
      candidates,
      signal: opts.signal,
      onBytes: (n: number) => {
        done += n
        opts.onProgress?.({ phase: 'fetch', done, total: target.size })
      },
    }
    let shared = this.#fetches.get(cid)
    if (!shared) {
      shared = fetchInto(ctx, job).finally(() => this.#fetches.delete(cid))
      this.#fetches.set(cid, shared)
    }
    // If the shared fetch was aborted by its own caller, a get whose signal is still live fetches by itself.
    const { nodeId, skipped } = await shared.catch((err) => {
      if (opts.signal.aborted) throw err
      if (err instanceof Error && err.name === 'AbortError') return fetchInto(ctx, job)
      if (damaged) throw new DamagedObjectError(cid, err)
      throw err
    })
    const bad = skipped
      .filter((s) => holders.includes(s.nodeId) && !TRANSIENT.has(s.code))
      .map((s) => s.nodeId)
    if (bad.length > 0 && !target.shared) this.onBadHolders(cid, bad)
    const { size } = await ctx.store.stat(cid, self)
    await ctx.catalogue.putObject({
      cid,
      size,
      names: [],
      created: Date.now(),
      replication: target.shared ? 0 : replication,
      holders: target.shared ? [] : [nodeId],
      shared: target.shared,
    })
    return { cid, size, stream: ctx.store.read(cid, { ...self, ...range }), source: nodeId, skipped }
  }
}

/** Failures that say nothing about a holder's copy: it may be fine once the peer answers again. */
const TRANSIENT = new Set([
  'ERR_TIMEOUT',
  'ERR_PEER_TIMEOUT',
  'ERR_CONNECTION_CLOSED',
  'ERR_ABORTED',
  'ERR_TOO_MANY_REQUESTS',
  'ERR_NOT_CONNECTED',
])

/** Whether the local plaintext still hashes to its cid (a damaged header or unreadable file does not). */
async function intact(ctx: ServerContext, cid: string, signal: AbortSignal): Promise<boolean> {
  const hash = createHash('sha256')
  try {
    for await (const chunk of ctx.store.read(cid, { namespace: 'self' })) {
      signal.throwIfAborted()
      hash.update(chunk as Uint8Array)
    }
  } catch (err) {
    if (signal.aborted) throw err
    const code = errorCode(err)
    // Only damage counts as damage: a file that vanished meanwhile is fetched like any missing object.
    if (code !== 'ERR_CORRUPT_OBJECT' && code !== 'ERR_NOT_FOUND') throw err
    return false
  }
  return hash.digest('hex') === cid
}

/** The inclusive byte range a get asked for, checked before anything is fetched. */
function byteRange(opts: GetOptions): { start?: number; end?: number } {
  const { start, end } = opts
  const ok = (n: number | undefined) => n === undefined || (Number.isSafeInteger(n) && n >= 0)
  if (!ok(start) || !ok(end) || (start !== undefined && end !== undefined && start > end)) {
    throw new InvalidRangeError(start, end)
  }
  return { ...(start !== undefined && { start }), ...(end !== undefined && { end }) }
}
