import { describe, expect, it } from 'vitest'
import { parseRange } from '../src/index.js'

describe('parseRange', () => {
  it('returns undefined without a header or for a unit other than bytes', () => {
    expect(parseRange(undefined, 100)).toBeUndefined()
    expect(parseRange('items=0-4', 100)).toBeUndefined()
  })

  it('reads a closed, an open and a suffix range', () => {
    expect(parseRange('bytes=10-19', 100)).toEqual({ start: 10, end: 19 })
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 })
    expect(parseRange('bytes=-5', 100)).toEqual({ start: 95, end: 99 })
  })

  it('clamps an end past the object and reports a start past it as unsatisfiable', () => {
    expect(parseRange('bytes=50-1000', 100)).toEqual({ start: 50, end: 99 })
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable')
    expect(parseRange('bytes=20-10', 100)).toBe('unsatisfiable')
  })
})
