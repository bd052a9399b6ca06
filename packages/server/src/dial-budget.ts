/** Longest wait between two dials of one node, or of one gossip-only address, in ms. */
export const MAX_DIAL_BACKOFF = 60_000

/** Exponential backoff with jitter after `failures` failed dials, so a dead node is not hammered by every peer at once. */
export function dialBackoff(failures: number): number {
  return Math.min(MAX_DIAL_BACKOFF, 1000 * 2 ** failures) * (0.5 + Math.random() / 2)
}

/** The host of 'host:port', '[v6]:port' or a socket's 'v6:port', lower case, an IPv4-mapped IPv6 address as IPv4. */
export function hostOf(addr: string): string {
  const colon = addr.lastIndexOf(':')
  const host = colon < 0 ? addr : addr.slice(0, colon)
  return host
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1')
    .toLowerCase()
}

export interface DialBudgetOptions {
  /** The window, in ms (the gossip interval). */
  interval: number
  /** Dials per window, all hosts together. */
  perInterval: number
  /** Dials per window on one host. */
  perHost: number
}

/**
 * How often this node dials addresses that only gossip vouches for: at most `perInterval` per
 * window, `perHost` of them on one host, and one address at most once a window, then after each
 * failure only once its backoff has passed (whatever node id claims it). So however many records
 * a peer sends, the dials they cause are bounded by these figures, not by the records.
 */
export class DialBudget {
  readonly #o: DialBudgetOptions
  #window = { start: Number.NEGATIVE_INFINITY, total: 0, hosts: new Map<string, number>() }
  readonly #addrs = new Map<string, { failures: number; nextAt: number }>()

  constructor(options: DialBudgetOptions) {
    this.#o = options
  }

  /** True when `addr` is out of its backoff (the budget may still refuse it). */
  due(addr: string, now: number): boolean {
    return now >= (this.#addrs.get(addr)?.nextAt ?? 0)
  }

  /** True, and counted, when `addr` may be dialled now. */
  take(addr: string, now: number): boolean {
    if (now - this.#window.start >= this.#o.interval)
      this.#window = { start: now, total: 0, hosts: new Map() }
    const prev = this.#addrs.get(addr)
    if (prev && now < prev.nextAt) return false
    const host = hostOf(addr)
    const onHost = this.#window.hosts.get(host) ?? 0
    if (this.#window.total >= this.#o.perInterval || onHost >= this.#o.perHost) return false
    this.#window.total++
    this.#window.hosts.set(host, onHost + 1)
    this.#addrs.set(addr, { failures: prev?.failures ?? 0, nextAt: now + this.#o.interval })
    return true
  }

  failed(addr: string, now: number): void {
    const failures = (this.#addrs.get(addr)?.failures ?? 0) + 1
    this.#addrs.set(addr, { failures, nextAt: now + dialBackoff(failures) })
  }

  succeeded(addr: string): void {
    this.#addrs.delete(addr)
  }

  /** Forgets addresses whose backoff ended long ago; the map holds at most what the budget let through lately. */
  prune(now: number): void {
    for (const [addr, a] of this.#addrs) if (now - a.nextAt > MAX_DIAL_BACKOFF) this.#addrs.delete(addr)
  }
}
