import type { Traffic } from '@cas/api'
import { formatDuration, formatRate } from '../lib/format.js'
import { linePath, niceCeiling, trafficSeries } from '../lib/traffic-series.js'

const WIDTH = 600
const HEIGHT = 160

/**
 * Bytes per second received and sent over the last minutes, as two lines. The SVG is hidden from
 * screen readers; the caption says the same in words.
 */
export function ThroughputChart({ traffic }: { traffic: Traffic }) {
  const series = trafficSeries(traffic)
  const top = niceCeiling(series.max)
  const span = (series.at.length * traffic.intervalMs) / 1000
  const nowIn = series.in.at(-1) ?? 0
  const nowOut = series.out.at(-1) ?? 0
  const peakIn = Math.max(0, ...series.in)
  const peakOut = Math.max(0, ...series.out)
  return (
    <figure class="chart">
      <div class="chart-axis" aria-hidden="true">
        <span>{formatRate(top)}</span>
      </div>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        preserveAspectRatio="none"
        aria-hidden="true"
        focusable="false"
        class="chart-svg"
      >
        <line class="chart-grid" x1="0" x2={WIDTH} y1={HEIGHT / 2} y2={HEIGHT / 2} />
        <line class="chart-grid" x1="0" x2={WIDTH} y1="0.5" y2="0.5" />
        <path class="chart-line chart-in" d={linePath(series.in, top, WIDTH, HEIGHT)} />
        <path class="chart-line chart-out" d={linePath(series.out, top, WIDTH, HEIGHT)} />
      </svg>
      <div class="chart-axis" aria-hidden="true">
        <span>{span > 0 ? `${formatDuration(span)} ago` : ''}</span>
        <span>now</span>
      </div>
      <ul class="chart-legend" aria-hidden="true">
        <li>
          <span class="swatch swatch-in" /> In {formatRate(nowIn)}
        </li>
        <li>
          <span class="swatch swatch-out" /> Out {formatRate(nowOut)}
        </li>
      </ul>
      <figcaption data-testid="throughput-summary">
        {series.at.length === 0
          ? 'No traffic recorded yet.'
          : `Over the last ${formatDuration(span)}: now receiving ${formatRate(nowIn)} and sending ${formatRate(nowOut)}; peak ${formatRate(peakIn)} in, ${formatRate(peakOut)} out.`}
      </figcaption>
    </figure>
  )
}
