import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { sliceRange } from '../src/http/byte-range.js'
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

describe('sliceRange', () => {
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251))
  const chunks = () =>
    Readable.from(Array.from({ length: 10 }, (_, i) => data.subarray(i * 100, i * 100 + 100)))

  it('passes on exactly the wanted bytes across chunk boundaries', async () => {
    const out: Buffer[] = []
    await pipeline(chunks(), sliceRange({ start: 150, end: 649 }), async (source: AsyncIterable<Buffer>) => {
      for await (const c of source) out.push(c)
    })
    expect(Buffer.concat(out)).toEqual(data.subarray(150, 650))
  })

  it('stops reading the source once the range is complete', async () => {
    const source = chunks()
    const out: Buffer[] = []
    await pipeline(source, sliceRange({ start: 0, end: 99 }), async (s: AsyncIterable<Buffer>) => {
      for await (const c of s) out.push(c)
    })
    expect(Buffer.concat(out)).toEqual(data.subarray(0, 100))
    expect(source.destroyed).toBe(true)
    expect(source.readableEnded).toBe(false)
  })
})
