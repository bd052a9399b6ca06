import { describe, expect, it } from 'vitest'
import { FanOut } from '../src/fan-out.js'

async function* numbered(count: number, log: number[]): AsyncIterable<Uint8Array> {
  for (let i = 0; i < count; i++) {
    log.push(i)
    yield new Uint8Array([i])
  }
}

async function collect(
  data: AsyncIterable<Uint8Array>,
  stopAfter = Number.POSITIVE_INFINITY,
): Promise<number[]> {
  const out: number[] = []
  for await (const chunk of data) {
    out.push(chunk[0]!)
    if (out.length >= stopAfter) break
  }
  return out
}

describe('FanOut', () => {
  it('gives every consumer the whole sequence while reading the source once', async () => {
    const pulled: number[] = []
    const fan = new FanOut(numbered(50, pulled), 3)
    const results = await Promise.all([0, 1, 2].map((i) => collect(fan.branch(i).data)))
    const expected = Array.from({ length: 50 }, (_, i) => i)
    for (const r of results) expect(r).toEqual(expected)
    expect(pulled).toEqual(expected)
  })

  it('keeps feeding the others after one consumer stops early, or never starts', async () => {
    const fan = new FanOut(numbered(20, []), 3)
    const never = fan.branch(2)
    never.detach()
    const [early, full] = await Promise.all([collect(fan.branch(0).data, 5), collect(fan.branch(1).data)])
    expect(early).toEqual([0, 1, 2, 3, 4])
    expect(full).toHaveLength(20)
  })

  it('never runs more than one chunk ahead of the slowest consumer', async () => {
    const pulled: number[] = []
    const fan = new FanOut(numbered(100, pulled), 2)
    const fast = collect(fan.branch(0).data)
    const slow = fan.branch(1).data[Symbol.asyncIterator]()
    for (let i = 0; i < 10; i++) {
      await slow.next()
      // The fast consumer waits for the slow one: the source is at most one chunk past it.
      expect(pulled.length).toBeLessThanOrEqual(i + 2)
    }
    while (!(await slow.next()).done) {}
    expect(await fast).toHaveLength(100)
  })

  it('fails every consumer when the source fails', async () => {
    async function* broken(): AsyncIterable<Uint8Array> {
      yield new Uint8Array([1])
      throw new Error('disk gone')
    }
    const fan = new FanOut(broken(), 2)
    const results = await Promise.allSettled([collect(fan.branch(0).data), collect(fan.branch(1).data)])
    for (const r of results) expect(r).toMatchObject({ status: 'rejected', reason: { message: 'disk gone' } })
  })
})
