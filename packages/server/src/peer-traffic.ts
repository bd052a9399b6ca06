/**
 * What a node exchanged with each peer since it started, and since when each is connected: the
 * figures a dashboard shows beside a peer. Kept per node id for the node's lifetime (peers are
 * bounded by the peer book and the connection limits).
 */
export class PeerTraffic {
  readonly #bytes = new Map<string, { in: number; out: number }>()
  readonly #since = new Map<string, number>()

  count(nodeId: string, direction: 'in' | 'out', bytes: number): void {
    let b = this.#bytes.get(nodeId)
    if (!b) {
      b = { in: 0, out: 0 }
      this.#bytes.set(nodeId, b)
    }
    b[direction] += bytes
  }

  /** A connection came up; a second one to the same node keeps the first time. */
  up(nodeId: string, at = Date.now()): void {
    if (!this.#since.has(nodeId)) this.#since.set(nodeId, at)
  }

  down(nodeId: string): void {
    this.#since.delete(nodeId)
  }

  of(nodeId: string): { bytesIn: number; bytesOut: number; connectedAt?: number } {
    const b = this.#bytes.get(nodeId)
    const since = this.#since.get(nodeId)
    return { bytesIn: b?.in ?? 0, bytesOut: b?.out ?? 0, ...(since !== undefined && { connectedAt: since }) }
  }
}
