import type { Activity, ActivityEvent, Transfer } from '@cas/api'

/** Events kept for `GET /v1/activity` (newest last). */
export const RECENT_EVENTS = 200
/** How often transfers in progress report their bytes to listeners. */
export const PROGRESS_INTERVAL = 500

export type FeedMessage = { type: 'transfer'; data: Transfer } | { type: 'activity'; data: ActivityEvent }
type Listener = (m: FeedMessage) => void

/** A transfer being tracked; `bytes` is read when progress is reported, not counted per chunk. */
export interface TransferHandle {
  /**
   * Ended well; the cid once known (an upload learns it at the end), and the bytes moved when the
   * counter read on the way is not exact (a socket's bytes also count headers and what was read ahead).
   */
  done(cid?: string, bytes?: number): void
  failed(code: string): void
}

interface Tracked {
  transfer: Transfer
  bytes: () => number
  reported: number
}

/**
 * What the node is doing and has just done, for the dashboard's Activity page: transfers in
 * progress (their bytes read from counters a few times a second, nothing added to the data path)
 * and the latest events, pushed to listeners as they happen.
 */
export class ActivityFeed {
  readonly #transfers = new Map<string, Tracked>()
  readonly #recent: ActivityEvent[] = []
  readonly #listeners = new Map<Listener, () => void>()
  #seq = 0
  #ids = 0
  #ticker: NodeJS.Timeout | undefined

  snapshot(): Activity {
    return {
      transfers: [...this.#transfers.values()].map((t) => ({ ...t.transfer, bytes: t.bytes() })),
      recent: [...this.#recent],
    }
  }

  /**
   * Calls `fn` with every message from now on, and `onEnd` when the feed closes (the node stops:
   * its event streams end rather than hold the stop up); returns the unsubscribe.
   */
  subscribe(fn: Listener, onEnd: () => void = () => undefined): () => void {
    this.#listeners.set(fn, onEnd)
    return () => this.#listeners.delete(fn)
  }

  note(event: {
    type: ActivityEvent['type']
    message: string
    cid?: string
    nodeId?: string
    code?: string
  }): void {
    const full: ActivityEvent = { seq: ++this.#seq, at: Date.now(), ...event }
    this.#recent.push(full)
    if (this.#recent.length > RECENT_EVENTS) this.#recent.shift()
    this.#emit({ type: 'activity', data: full })
  }

  start(
    t: Pick<Transfer, 'kind'> & Partial<Pick<Transfer, 'name' | 'cid' | 'peer' | 'total'>>,
    bytes: () => number,
  ): TransferHandle {
    const id = `t${++this.#ids}`
    const tracked: Tracked = {
      transfer: { ...t, id, state: 'active', bytes: 0, startedAt: Date.now() },
      bytes,
      reported: -1,
    }
    this.#transfers.set(id, tracked)
    this.#report(tracked)
    this.#tick()
    const end = (state: 'done' | 'failed', extra: Partial<Transfer>) => {
      if (!this.#transfers.delete(id)) return
      tracked.transfer = { ...tracked.transfer, bytes: bytes(), ...extra, state }
      this.#emit({ type: 'transfer', data: tracked.transfer })
      const what = `${t.kind} of ${tracked.transfer.name ?? tracked.transfer.cid ?? 'an object'}`
      this.note({
        type: 'transfer',
        message: state === 'done' ? `${what} done` : `${what} failed (${extra.code})`,
        ...(tracked.transfer.cid !== undefined && { cid: tracked.transfer.cid }),
        ...(extra.code !== undefined && { code: extra.code }),
      })
    }
    return {
      done: (cid, moved) =>
        end('done', { ...(cid !== undefined && { cid }), ...(moved !== undefined && { bytes: moved }) }),
      failed: (code) => end('failed', { code }),
    }
  }

  close(): void {
    clearInterval(this.#ticker)
    this.#ticker = undefined
    const ends = [...this.#listeners.values()]
    this.#listeners.clear()
    for (const end of ends) end()
  }

  #tick(): void {
    if (this.#ticker) return
    this.#ticker = setInterval(() => {
      if (this.#transfers.size === 0) {
        clearInterval(this.#ticker)
        this.#ticker = undefined
        return
      }
      for (const t of this.#transfers.values()) this.#report(t)
    }, PROGRESS_INTERVAL)
    this.#ticker.unref()
  }

  #report(t: Tracked): void {
    const bytes = t.bytes()
    if (bytes === t.reported) return
    t.reported = bytes
    this.#emit({ type: 'transfer', data: { ...t.transfer, bytes } })
  }

  #emit(m: FeedMessage): void {
    for (const fn of this.#listeners.keys()) fn(m)
  }
}
