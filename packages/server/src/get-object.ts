import type { ServerContext } from './context.js'
import { InvalidRangeError } from './errors.js'
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
 * Serves gets: the local copy when there is one, else a verified fetch into
 * the store first. Concurrent gets of one missing object share one fetch.
 */
export class Getter {
  readonly #fetches = new Map<string, Promise<FetchResult>>()

  async get(
    ctx: ServerContext,
    target: GetTarget,
    opts: GetOptions & { signal: AbortSignal },
    replication: Replication,
  ): Promise<GetResult> {
    const range = byteRange(opts)
    const { cid } = target
    const self = { namespace: 'self' }
    if (await ctx.store.has(cid, self)) {
      const { size } = await ctx.store.stat(cid, self)
      return { cid, size, stream: ctx.store.read(cid, { ...self, ...range }), source: 'local', skipped: [] }
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
      if (opts.signal.aborted || !(err instanceof Error && err.name === 'AbortError')) throw err
      return fetchInto(ctx, job)
    })
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

/** The inclusive byte range a get asked for, checked before anything is fetched. */
function byteRange(opts: GetOptions): { start?: number; end?: number } {
  const { start, end } = opts
  const ok = (n: number | undefined) => n === undefined || (Number.isSafeInteger(n) && n >= 0)
  if (!ok(start) || !ok(end) || (start !== undefined && end !== undefined && start > end)) {
    throw new InvalidRangeError(start, end)
  }
  return { ...(start !== undefined && { start }), ...(end !== undefined && { end }) }
}
