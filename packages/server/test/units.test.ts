import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  decodeCapability,
  encodeCapability,
  type FileServerOptions,
  rankNodes,
  requestSchema,
  validateOptions,
} from '../src/index.js'

const id = () => randomBytes(32).toString('hex')

describe('rendezvous ranking', () => {
  it('ranks the same nodes the same way whatever order they are given in', () => {
    const nodes = Array.from({ length: 8 }, id)
    const locator = id()
    expect(rankNodes(locator, nodes)).toEqual(rankNodes(locator, [...nodes].reverse()))
    expect(new Set(rankNodes(locator, nodes))).toEqual(new Set(nodes))
  })

  it('moves only the objects a removed node ranked first for', () => {
    const nodes = Array.from({ length: 6 }, id)
    const locators = Array.from({ length: 300 }, id)
    const gone = nodes[2]!
    const rest = nodes.filter((n) => n !== gone)
    for (const loc of locators) {
      const before = rankNodes(loc, nodes)
      const after = rankNodes(loc, rest)
      expect(after).toEqual(before.filter((n) => n !== gone))
    }
  })

  it('spreads first places over every node', () => {
    const nodes = Array.from({ length: 5 }, id)
    const firsts = new Map<string, number>()
    for (let i = 0; i < 1_000; i++) {
      const first = rankNodes(id(), nodes)[0]!
      firsts.set(first, (firsts.get(first) ?? 0) + 1)
    }
    for (const n of nodes) expect(firsts.get(n) ?? 0).toBeGreaterThan(120)
  })
})

describe('capabilities', () => {
  const cap = {
    cid: id(),
    ownerId: id(),
    locator: id(),
    objectKey: randomBytes(32),
    size: 42,
  }

  it('round-trips through its string form', () => {
    const back = decodeCapability(encodeCapability(cap))
    expect(back).toMatchObject({ cid: cap.cid, ownerId: cap.ownerId, locator: cap.locator, size: 42 })
    expect(Buffer.from(back.objectKey).equals(cap.objectKey)).toBe(true)
  })

  it('rejects a damaged or foreign string with ERR_INVALID_CAPABILITY', () => {
    const text = encodeCapability(cap)
    for (const bad of [
      'cas-cap2:',
      `${text.slice(0, -6)}`,
      'cas-cap2:!!!',
      'xyz',
      `cas-cap2:${'A'.repeat(5000)}`,
    ]) {
      expect(() => decodeCapability(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CAPABILITY' }))
    }
  })
})

describe('request schema', () => {
  it('accepts well-formed requests and rejects bad ids, unknown ops and oversized lists', () => {
    const fetch = { op: 'fetch', v: 2, ownerId: id(), locator: id(), part: 'chunks', first: 3, count: 4 }
    expect(requestSchema.safeParse(fetch).success).toBe(true)
    expect(requestSchema.safeParse({ ...fetch, locator: 'ABC' }).success).toBe(false)
    expect(requestSchema.safeParse({ ...fetch, count: 65 }).success).toBe(false)
    expect(requestSchema.safeParse({ ...fetch, v: 1 }).success).toBe(false)
    expect(requestSchema.safeParse({ op: 'store', v: 2, ownerId: id() }).success).toBe(true)
    expect(requestSchema.safeParse({ op: 'format-disk' }).success).toBe(false)
    expect(
      requestSchema.safeParse({ op: 'has', ownerId: id(), locators: Array.from({ length: 257 }, id) })
        .success,
    ).toBe(false)
    expect(requestSchema.safeParse({ op: 'store', ownerId: id() }).success).toBe(false)
  })
})

describe('options', () => {
  const base = { dataDir: '/tmp/x' } as FileServerOptions
  it('accepts the defaults and sensible values', () => {
    expect(() => validateOptions(base)).not.toThrow()
    expect(() =>
      validateOptions({ ...base, replication: 'all', bootstrap: ['127.0.0.1:3000'] }),
    ).not.toThrow()
  })

  it('refuses out-of-range values with ERR_INVALID_OPTIONS naming the option', () => {
    for (const bad of [
      { replication: -1 },
      { replication: 1.5 },
      { quota: { perOwner: -5 } },
      { bootstrap: ['no-port'] },
      { gossipInterval: 0 },
      { dataDir: '' },
    ]) {
      expect(() => validateOptions({ ...base, ...bad } as FileServerOptions)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
      )
    }
  })
})
