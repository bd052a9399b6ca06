import { describe, expect, it } from 'vitest'
import { linePath, niceCeiling, trafficSeries } from '../app/lib/traffic-series.js'

describe('trafficSeries', () => {
  it('turns bytes per interval into bytes per second, p2p and API together', () => {
    const series = trafficSeries({
      intervalMs: 2000,
      samples: [
        { at: 1000, p2pIn: 2000, p2pOut: 0, apiIn: 2000, apiOut: 0 },
        { at: 3000, p2pIn: 0, p2pOut: 10_000, apiIn: 0, apiOut: 4000 },
      ],
    })
    expect(series).toEqual({ at: [1000, 3000], in: [2000, 0], out: [0, 7000], max: 7000 })
  })

  it('is empty for no samples', () => {
    expect(trafficSeries({ intervalMs: 1000, samples: [] })).toEqual({ at: [], in: [], out: [], max: 0 })
  })
})

describe('niceCeiling', () => {
  it('rounds up to 1, 2 or 5 times a power of ten of a binary unit, at least 1 KiB/s', () => {
    expect(niceCeiling(0)).toBe(1024)
    expect(niceCeiling(1000)).toBe(1024)
    expect(niceCeiling(1500)).toBe(2 * 1024)
    expect(niceCeiling(2048)).toBe(2 * 1024)
    expect(niceCeiling(3100)).toBe(5 * 1024)
    expect(niceCeiling(464 * 1024)).toBe(500 * 1024)
    expect(niceCeiling(999 * 1024)).toBe(1 * 1024 ** 2)
    expect(niceCeiling(7 * 1024 ** 2)).toBe(10 * 1024 ** 2)
  })
})

describe('linePath', () => {
  it('spreads points over the width and puts the top at y 0', () => {
    expect(linePath([0, 50, 100], 100, 200, 10)).toBe('M0,10L100,5L200,0')
  })

  it('clamps values above the top and below zero', () => {
    expect(linePath([200, -5], 100, 10, 10)).toBe('M0,0L10,10')
  })

  it('draws one value flat and nothing for none', () => {
    expect(linePath([25], 100, 60, 20)).toBe('M0,15H60')
    expect(linePath([], 100, 60, 20)).toBe('')
  })
})
