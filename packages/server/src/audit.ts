import { randomInt } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { locatorOf } from '@cas/crypto'
import type { ObjectRecord } from './catalogue.js'
import type { ServerContext } from './context.js'
import { errorCode } from './errors.js'
import { livePeers } from './placement.js'
import { fetchChunks, fetchCommit } from './protocol/fetch.js'
import { RateLimiter } from './rate-limiter.js'
import type { AuditStatus } from './types.js'

export interface AuditOptions {
  /** Bytes per second the audits may fetch (chunks and commits), over all holders. */
  rate: number
  /** Milliseconds from the end of one round (every holder of every object once) to the next. */
  interval: number
  /** A holder failed: it no longer counts for `cid`, and repair should replace its replica. */
  onFailed(cid: string, nodeId: string): void
}

/** The least an audit is charged, whatever the chunk's size: a request and a commit cost bytes too. */
const MIN_AUDIT_COST = 4 * 1024
/** Inconclusive audits in a row (timeouts, busy) after which a holder counts as failed. */
const MAX_INCONCLUSIVE = 3
/** Codes that say nothing about the replica: the peer was busy or this node is stopping. */
const INCONCLUSIVE = new Set(['ERR_BUSY', 'ERR_TOO_MANY_REQUESTS', 'ERR_ABORTED', 'ERR_CONNECTION_CLOSED'])

/**
 * Proves that holders still hold what they acknowledged. `has: true` costs a holder nothing to say;
 * an audit asks it for one chunk chosen at random (it cannot know which in advance) and for the
 * owner-signed commit, and checks the chunk's ciphertext against the commit's hash. A holder that
 * answers with other bytes, or not at all, or that it has nothing, fails: it stops counting for that
 * object, which repair then replaces elsewhere, and it is shown as failed in `stat` and the metrics.
 * Audits spend at most `rate` bytes a second, least recently audited holder first.
 */
export class Auditor {
  readonly #ctx: ServerContext
  readonly #o: AuditOptions
  readonly #limiter: RateLimiter
  readonly #abort = new AbortController()
  /** `<cid>/<nodeId>` → when last audited, so each round starts with those audited longest ago. */
  readonly #last = new Map<string, number>()
  readonly #inconclusive = new Map<string, number>()
  #loop: Promise<void> | undefined
  #status: AuditStatus = { passed: 0, failed: 0, inconclusive: 0, bytes: 0, rounds: 0, lastRound: undefined }

  constructor(ctx: ServerContext, options: AuditOptions) {
    this.#ctx = ctx
    this.#o = options
    this.#limiter = new RateLimiter(options.rate)
  }

  get status(): AuditStatus {
    return { ...this.#status }
  }

  start(): void {
    this.#loop ??= this.#run().catch((err: unknown) => {
      if (!this.#abort.signal.aborted) this.#ctx.logger.warn({ err: String(err) }, 'audits stopped')
    })
  }

  async stop(): Promise<void> {
    this.#abort.abort()
    await this.#loop
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal
    // The first round waits an interval too: a node just started has had nothing stored to lose yet.
    while (!signal.aborted) {
      await delay(this.#o.interval, undefined, { signal }).catch(() => {})
      if (!signal.aborted) await this.round(signal)
    }
  }

  /** Audits every live holder (a member) of every owned object once, least recently audited first. */
  async round(signal: AbortSignal = this.#abort.signal): Promise<AuditStatus> {
    const pairs: { rec: ObjectRecord; nodeId: string; key: string }[] = []
    const live = new Set(livePeers(this.#ctx))
    for (const rec of this.#ctx.catalogue.objects()) {
      if (rec.shared || this.#ctx.replicating.has(rec.cid)) continue
      for (const nodeId of rec.holders) {
        if (live.has(nodeId)) pairs.push({ rec, nodeId, key: `${rec.cid}/${nodeId}` })
      }
    }
    pairs.sort((a, b) => (this.#last.get(a.key) ?? 0) - (this.#last.get(b.key) ?? 0))
    for (const { rec, nodeId, key } of pairs) {
      if (signal.aborted) break
      await this.#auditOne(rec, nodeId, key, signal).catch((err: unknown) => {
        if (!signal.aborted)
          this.#ctx.logger.warn({ cid: rec.cid, nodeId, err: String(err) }, 'audit failed to run')
      })
    }
    if (!signal.aborted)
      this.#status = { ...this.#status, rounds: this.#status.rounds + 1, lastRound: Date.now() }
    // Forget pairs that no longer exist (objects deleted, holders replaced).
    const current = new Set(pairs.map((p) => p.key))
    for (const key of this.#last.keys()) if (!current.has(key)) this.#last.delete(key)
    return this.status
  }

  async #auditOne(rec: ObjectRecord, nodeId: string, key: string, signal: AbortSignal): Promise<void> {
    const peer = await this.#ctx.members.peer(nodeId)
    if (!peer) return
    const locator = locatorOf(this.#ctx.secrets, rec.cid)
    const started = Date.now()
    let cost = MIN_AUDIT_COST
    await this.#limiter.take(cost, signal)
    try {
      // The holder's own commit, which it cannot forge: signed by this owner, for this locator.
      const signed = await fetchCommit(this.#ctx, peer, this.#ctx.ownerId, locator, signal)
      const count = signed.commit.chunks.length
      const index = randomInt(count)
      const length = signed.commit.chunks[index]?.length ?? 0
      await this.#limiter.take(length, signal)
      cost += length
      let got = false
      for await (const _ of fetchChunks(peer, signed, index, 1, this.#ctx.fetchTimeout, signal)) got = true
      if (!got) throw Object.assign(new Error('the holder served no chunk'), { code: 'ERR_SIZE_MISMATCH' })
      this.#inconclusive.delete(key)
      this.#status = { ...this.#status, passed: this.#status.passed + 1 }
      await this.#ctx.catalogue.recordAudit(rec.cid, nodeId, { passed: true, at: Date.now() })
    } catch (err) {
      if (signal.aborted) throw err
      const code = errorCode(err) ?? 'ERR_UNKNOWN'
      const remote = (err as { remoteCode?: unknown }).remoteCode
      const reason = typeof remote === 'string' ? remote : code
      const misses = (this.#inconclusive.get(key) ?? 0) + 1
      if ((INCONCLUSIVE.has(reason) || code === 'ERR_TIMEOUT') && misses < MAX_INCONCLUSIVE) {
        this.#inconclusive.set(key, misses)
        this.#status = { ...this.#status, inconclusive: this.#status.inconclusive + 1 }
        return
      }
      this.#inconclusive.delete(key)
      this.#status = { ...this.#status, failed: this.#status.failed + 1 }
      const message = err instanceof Error ? err.message.slice(0, 300) : String(err)
      this.#ctx.logger.warn(
        { cid: rec.cid, nodeId, code: reason, err: message, ms: Date.now() - started },
        'a holder failed its audit: its replica no longer counts',
      )
      this.#ctx.auditFailures.set(nodeId, Date.now())
      await this.#ctx.catalogue.recordAudit(rec.cid, nodeId, { passed: false, at: Date.now(), code: reason })
      this.#o.onFailed(rec.cid, nodeId)
    } finally {
      this.#last.set(key, Date.now())
      this.#status = { ...this.#status, bytes: this.#status.bytes + cost }
    }
  }
}
