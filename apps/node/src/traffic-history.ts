import type { Traffic, TrafficSample } from '@cas/api'

/** One sample a second over five minutes. */
export const TRAFFIC_INTERVAL = 1000
export const TRAFFIC_SAMPLES = 300

type Direction = 'p2pIn' | 'p2pOut' | 'apiIn' | 'apiOut'

/** The node's bytes in and out per interval over the last minutes, for the dashboard's chart. */
export class TrafficHistory {
  readonly #samples: TrafficSample[] = []
  #current = { p2pIn: 0, p2pOut: 0, apiIn: 0, apiOut: 0 }
  readonly #timer: NodeJS.Timeout

  constructor(readonly intervalMs = TRAFFIC_INTERVAL) {
    this.#timer = setInterval(() => this.#roll(), intervalMs)
    this.#timer.unref()
  }

  add(direction: Direction, bytes: number): void {
    this.#current[direction] += bytes
  }

  history(): Traffic {
    return { intervalMs: this.intervalMs, samples: [...this.#samples] }
  }

  close(): void {
    clearInterval(this.#timer)
  }

  #roll(): void {
    this.#samples.push({ at: Date.now(), ...this.#current })
    if (this.#samples.length > TRAFFIC_SAMPLES) this.#samples.shift()
    this.#current = { p2pIn: 0, p2pOut: 0, apiIn: 0, apiOut: 0 }
  }
}
