import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/** prom-client default gauges whose names end in `_total` (sums of the labelled gauges kept). */
const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]

/** What the gauges show, read once per scrape. */
export interface MetricsSnapshot {
  objects: number
  bytes: number
  peers: number
  repair: { healthy: number; underReplicated: number; repairing: number }
  /** Inbound P2P sockets (in handshake or connected), those in their handshake, and those refused at a limit. */
  inbound: { connections: number; pendingHandshakes: number; refused: number }
  /** Chunks read to serve gets, from the local store and from peers. */
  chunksRead: number
  /** Audits of holders since start; undefined when audits are off. */
  audits: { passed: number; failed: number; inconclusive: number; bytes: number } | undefined
}

/** The node's Prometheus metrics, in a registry of their own (served at GET /metrics). */
export class NodeMetrics {
  readonly registry = new Registry()
  readonly apiBytesIn: Counter
  readonly apiBytesOut: Counter
  readonly p2pBytes: Counter<'direction'>
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>
  #pending: Promise<MetricsSnapshot> | undefined

  constructor(snapshot: () => Promise<MetricsSnapshot>) {
    const registers = [this.registry]
    // All gauges of one scrape share one snapshot.
    const read = (): Promise<MetricsSnapshot> => {
      this.#pending ??= snapshot().finally(() => {
        setImmediate(() => {
          this.#pending = undefined
        })
      })
      return this.#pending
    }
    collectDefaultMetrics({ register: this.registry })
    // prom-client also sums three labelled gauges into gauges named `…_total`, a suffix Prometheus keeps for
    // counters (`promtool check metrics` fails on them); the labelled ones (`nodejs_active_handles`, …) stay.
    for (const name of MISNAMED_DEFAULTS) this.registry.removeSingleMetric(name)
    this.apiBytesIn = new Counter({
      name: 'cas_api_bytes_received_total',
      help: 'Bytes received by the HTTP API',
      registers,
    })
    this.apiBytesOut = new Counter({
      name: 'cas_api_bytes_sent_total',
      help: 'Bytes sent by the HTTP API',
      registers,
    })
    this.p2pBytes = new Counter({
      name: 'cas_p2p_bytes_total',
      help: 'Object bytes moved between this node and its peers',
      labelNames: ['direction'],
      registers,
    })
    this.requestDuration = new Histogram({
      name: 'cas_http_request_duration_seconds',
      help: 'HTTP API request latency',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers,
    })
    new Gauge({
      name: 'cas_objects',
      help: 'Objects in the catalogue',
      registers,
      async collect() {
        this.set((await read()).objects)
      },
    })
    new Gauge({
      name: 'cas_stored_bytes',
      help: 'Bytes of objects in the catalogue',
      registers,
      async collect() {
        this.set((await read()).bytes)
      },
    })
    new Gauge({
      name: 'cas_peers',
      help: 'Connected peers',
      registers,
      async collect() {
        this.set((await read()).peers)
      },
    })
    new Gauge({
      name: 'cas_p2p_inbound_connections',
      help: 'Inbound P2P connections, in their handshake or established',
      registers,
      async collect() {
        this.set((await read()).inbound.connections)
      },
    })
    new Gauge({
      name: 'cas_p2p_pending_handshakes',
      help: 'Inbound P2P connections still in their handshake',
      registers,
      async collect() {
        this.set((await read()).inbound.pendingHandshakes)
      },
    })
    new Counter({
      name: 'cas_p2p_inbound_refused_total',
      help: 'Inbound P2P connections closed at a limit (a newcomer over the connection limit, or the oldest handshake displaced)',
      registers,
      async collect() {
        // The transport keeps the count; mirror it.
        this.reset()
        this.inc((await read()).inbound.refused)
      },
    })
    new Counter({
      name: 'cas_get_chunks_read_total',
      help: 'Object chunks read to serve gets (local and from peers); a Range reads only the chunks it touches',
      registers,
      async collect() {
        this.reset()
        this.inc((await read()).chunksRead)
      },
    })
    new Counter({
      name: 'cas_audits_total',
      help: 'Audits of holders (a random chunk of a replica fetched and checked) by result; a failed holder no longer counts and is replaced',
      labelNames: ['result'],
      registers,
      async collect() {
        this.reset()
        const { audits } = await read()
        if (!audits) return
        this.inc({ result: 'passed' }, audits.passed)
        this.inc({ result: 'failed' }, audits.failed)
        this.inc({ result: 'inconclusive' }, audits.inconclusive)
      },
    })
    new Counter({
      name: 'cas_audit_bytes_total',
      help: 'Bytes fetched by audits of holders (bounded by the audit rate)',
      registers,
      async collect() {
        this.reset()
        const { audits } = await read()
        if (audits) this.inc(audits.bytes)
      },
    })
    new Gauge({
      name: 'cas_repair_objects',
      help: 'Owned objects by replica state',
      labelNames: ['state'],
      registers,
      async collect() {
        const { repair } = await read()
        this.set({ state: 'healthy' }, repair.healthy)
        this.set({ state: 'under_replicated' }, repair.underReplicated)
        this.set({ state: 'repairing' }, repair.repairing)
      },
    })
  }
}
