import type { Traffic } from '@cas/api'

/** The node's throughput over time, in bytes per second. */
export interface TrafficSeries {
  /** End of each interval (ms). */
  at: number[]
  /** Received: from peers and through the API (uploads). */
  in: number[]
  /** Sent: to peers and through the API (downloads). */
  out: number[]
  /** Highest rate of either series. */
  max: number
}

/** Bytes per interval turned into rates, oldest first. */
export function trafficSeries(traffic: Traffic): TrafficSeries {
  const perSecond = 1000 / traffic.intervalMs
  const at: number[] = []
  const inRates: number[] = []
  const outRates: number[] = []
  for (const s of traffic.samples) {
    at.push(s.at)
    inRates.push((s.p2pIn + s.apiIn) * perSecond)
    outRates.push((s.p2pOut + s.apiOut) * perSecond)
  }
  return { at, in: inRates, out: outRates, max: Math.max(0, ...inRates, ...outRates) }
}

/**
 * The top of the chart's scale: 1, 2 or 5 × 10ⁿ of the binary unit `max` is shown in (B, KiB,
 * MiB …), at or above `max`, so that its label reads round; at least 1 KiB/s, so that an idle
 * node draws its lines along the bottom.
 */
export function niceCeiling(max: number): number {
  const floor = 1024
  if (!(max > floor)) return floor
  let unit = 1
  while (max / unit >= 1000) unit *= 1024
  const value = max / unit
  const power = 10 ** Math.floor(Math.log10(value))
  const step = [1, 2, 5, 10].find((s) => s * power >= value) ?? 10
  // 1000 KiB reads better as 1 MiB.
  return step * power >= 1000 ? unit * 1024 : step * power * unit
}

/**
 * An SVG path through `values`, spread evenly over `width`, scaled so `top` is at y = 0 and 0 at
 * y = `height`. Empty for no values; a single value is drawn as a flat line.
 */
export function linePath(values: readonly number[], top: number, width: number, height: number): string {
  if (values.length === 0 || !(top > 0)) return ''
  const y = (v: number): number => round(height - (Math.min(Math.max(v, 0), top) / top) * height)
  if (values.length === 1) return `M0,${y(values[0] ?? 0)}H${width}`
  const step = width / (values.length - 1)
  return values.map((v, i) => `${i === 0 ? 'M' : 'L'}${round(i * step)},${y(v)}`).join('')
}

const round = (n: number): number => Math.round(n * 10) / 10
