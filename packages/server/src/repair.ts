import { locatorOf } from '@cas/crypto'
import type { ObjectRecord } from './catalogue.js'
import { missingReplicas } from './confirm-holders.js'
import type { ServerContext } from './context.js'
import { addressGroups, distrusted, livePeers, rankedCandidates, wantedReplicas } from './placement.js'
import { askHas } from './protocol/has.js'
import { localRecords, recordReplicas, relayedRecords, replicate } from './replicate.js'
import type { RepairStatus } from './types.js'

export interface RepairOptions {
  interval: number
  grace: number
  concurrency: number
  onStatus: (s: RepairStatus) => void
}

/**
 * Keeps each owned object at its wanted number of live holders. A holder that
 * has been unreachable for longer than the grace period no longer counts, and
 * the object is re-replicated to the next ranked live peers (after asking them
 * whether they already hold it).
 */
export class Repairer {
  readonly #ctx: ServerContext
  readonly #o: RepairOptions
  readonly #downSince = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined
  #running: Promise<RepairStatus> | undefined
  /** A peer came up during the pass in progress (which cannot place replicas on it). */
  #peerCameUp = false
  #again = false
  #status: RepairStatus = { healthy: 0, underReplicated: 0, repairing: 0, lastRun: undefined }
  readonly #abort = new AbortController()

  constructor(ctx: ServerContext, options: RepairOptions) {
    this.#ctx = ctx
    this.#o = options
  }

  get status(): RepairStatus {
    return { ...this.#status }
  }

  start(): void {
    if (this.#o.interval <= 0) return
    this.#timer = setInterval(() => void this.run().catch(() => {}), this.#o.interval)
    this.#timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#abort.abort()
    await this.#running?.catch(() => {})
  }

  /**
   * A peer came up. Objects short of holders (too few peers, or a holder dropped after a failed
   * audit) get a pass now; a pass in progress took its list of live peers without this one, so
   * another follows it if it leaves any short.
   */
  noteUp(nodeId: string): void {
    this.#downSince.delete(nodeId)
    if (this.#running) this.#peerCameUp = true
    else if (this.#status.underReplicated > 0) void this.run().catch(() => {})
  }

  noteDown(nodeId: string): void {
    if (!this.#downSince.has(nodeId)) this.#downSince.set(nodeId, Date.now())
  }

  /** One pass over every owned object; concurrent callers share the pass in progress. */
  run(): Promise<RepairStatus> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined
      const short = this.#peerCameUp && this.#status.underReplicated > 0
      this.#peerCameUp = false
      if ((this.#again || short) && !this.#abort.signal.aborted) {
        this.#again = false
        void this.run().catch(() => {})
      }
    })
    return this.#running
  }

  /** Runs a pass now, or right after the one in progress (which may have read the catalogue before a change). */
  rerun(): void {
    if (this.#running) this.#again = true
    else void this.run().catch(() => {})
  }

  async #pass(): Promise<RepairStatus> {
    let live = new Set(livePeers(this.#ctx))
    const now = Date.now()
    const records = [...this.#ctx.catalogue.objects()].filter((r) => !r.shared)
    let healthy = 0
    let under = 0
    let checked = 0
    this.#status = { ...this.#status, repairing: 0, pass: { checked, total: records.length } }
    // Confirm the recorded holders: one that lost its replica no longer counts, and is sent it again.
    const settled = records.filter((r) => !this.#ctx.replicating.has(r.cid))
    const { missing, confirmed } = await missingReplicas(this.#ctx, settled, live, this.#abort.signal)
    await this.#ctx.catalogue.markProven(confirmed)
    // Holders that could not be reached for the probe are no longer members: they count as down.
    live = new Set(livePeers(this.#ctx))
    for (const rec of records) {
      // Segments of the catalogue log are repaired like any object but not counted as the user's.
      const counted = rec.kind === 'catalogue' ? 0 : 1
      if (this.#abort.signal.aborted) break
      if (checked > 0) this.#status = { ...this.#status, pass: { checked, total: records.length } }
      checked++
      // A put still sending this object's replicas: its holders are not known yet, and sending again races it.
      if (this.#ctx.replicating.has(rec.cid)) {
        under += counted
        continue
      }
      const wanted = wantedReplicas(rec.replication, live.size)
      const liveHolders = rec.holders.filter((h) => live.has(h) && !missing.get(rec.cid)?.has(h))
      if (liveHolders.length >= wanted) {
        healthy += counted
        continue
      }
      // Holders gone for less than the grace period still count: they may come back.
      const waiting = rec.holders.filter(
        (h) => !live.has(h) && now - this.#noteFirstDown(h, now) < this.#o.grace,
      )
      const need = Math.min(wanted, live.size) - liveHolders.length - waiting.length
      const local = await this.#ctx.store.has(rec.cid, { namespace: 'self' })
      if (need <= 0 || (!local && liveHolders.length === 0)) {
        under += counted
        continue
      }
      this.#status = { ...this.#status, repairing: this.#status.repairing + 1 }
      this.#o.onStatus(this.status)
      const fixed = await this.#repairOne(rec, live, liveHolders, waiting, need, wanted, local).catch(
        (err) => {
          this.#ctx.logger.warn({ cid: rec.cid, err: String(err) }, 'repair of an object failed')
          return false
        },
      )
      this.#status = { ...this.#status, repairing: this.#status.repairing - 1 }
      if (fixed) healthy += counted
      else under += counted
    }
    // The pass is over: its progress is no longer shown.
    this.#status = { healthy, underReplicated: under, repairing: 0, lastRun: Date.now() }
    this.#o.onStatus(this.status)
    return this.status
  }

  #noteFirstDown(nodeId: string, now: number): number {
    // A holder never seen since start counts as down from the first pass that misses it.
    if (!this.#downSince.has(nodeId)) this.#downSince.set(nodeId, now)
    return this.#downSince.get(nodeId) as number
  }

  async #repairOne(
    rec: ObjectRecord,
    live: Set<string>,
    liveHolders: string[],
    waiting: string[],
    need: number,
    wanted: number,
    local: boolean,
  ): Promise<boolean> {
    const locator = locatorOf(this.#ctx.secrets, rec.cid)
    const candidates = rankedCandidates(
      locator,
      live,
      addressGroups(this.#ctx.transport, (id) => this.#ctx.members.addrOf(id)),
      liveHolders,
      distrusted(this.#ctx),
      // A peer that failed an audit of this object is not trusted with it again.
    ).filter((n) => !liveHolders.includes(n) && rec.auditFailed?.[n] === undefined)
    const found = await this.#probe(locator, candidates, need)
    const rest = candidates.filter((n) => !found.includes(n))
    const signal = this.#abort.signal
    const holder = liveHolders[0] as string
    // Without a local copy, a live holder's replica is relayed as it is, each chunk checked on the way.
    const { acked, failed } = await replicate(this.#ctx, {
      cid: rec.cid,
      candidates: rest,
      wanted: need - found.length,
      concurrency: this.#o.concurrency,
      signal,
      records: local
        ? () => localRecords(this.#ctx, rec.cid, signal)
        : () => relayedRecords(this.#ctx, holder, locator, signal),
    })
    const holders = [...liveHolders, ...waiting, ...found, ...acked]
    await recordReplicas(this.#ctx, rec.cid, {
      holders,
      replace: true,
      proven: [...found, ...acked],
      failed,
    })
    if (found.length + acked.length > 0) {
      this.#ctx.logger.info({ cid: rec.cid, found, acked }, 'repaired replicas')
    }
    return liveHolders.length + found.length + acked.length >= wanted
  }

  /** Asks the best-ranked candidates whether they already hold the replica. */
  async #probe(locator: string, candidates: string[], need: number): Promise<string[]> {
    const found: string[] = []
    for (const nodeId of candidates.slice(0, need)) {
      const peer = await this.#ctx.members.peer(nodeId)
      if (!peer) continue
      try {
        if ((await askHas(this.#ctx, peer, [locator]))[0] === true) found.push(nodeId)
      } catch {
        // An unanswered probe just means the replica is sent again.
      }
    }
    return found
  }
}
