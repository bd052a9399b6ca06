import { describe, expect, it } from 'vitest'
import { freshRandom } from '../src/random-pool.js'

describe('freshRandom', () => {
  it('gives buffers of the length asked, each its own memory', () => {
    const a = freshRandom(32)
    const b = freshRandom(12)
    expect(a.byteLength).toBe(32)
    expect(b.byteLength).toBe(12)
    a.fill(0)
    expect(b.equals(Buffer.alloc(12))).toBe(false)
    expect(
      a.buffer === b.buffer &&
        a.byteOffset < b.byteOffset + b.byteLength &&
        b.byteOffset < a.byteOffset + a.byteLength,
    ).toBe(false)
  })

  it('never gives the same bytes twice, across many refills of the pool', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 5000; i++) seen.add(freshRandom(16 + (i % 17)).toString('hex'))
    expect(seen.size).toBe(5000)
  })

  it('serves requests larger than the pool takes from the generator', () => {
    const big = freshRandom(1000)
    expect(big.byteLength).toBe(1000)
    expect(big.equals(Buffer.alloc(1000))).toBe(false)
  })
})
