import { describe, expect, it } from 'vitest'
import { isUnder, selectObjects, subfolders } from '../src/commands/ls.js'

const holder = (live: boolean) => ({ nodeId: 'b'.repeat(64), live })
const objects = [
  {
    cid: `1${'0'.repeat(63)}`,
    size: 30,
    names: ['zebra.jpg'],
    created: 3,
    local: true,
    wanted: 2,
    holders: [holder(true), holder(true)],
    shared: false,
    refusals: [],
    failedAudits: [],
  },
  {
    cid: `2${'0'.repeat(63)}`,
    size: 10,
    names: ['Apple.txt', 'a.txt'],
    created: 1,
    local: true,
    wanted: 2,
    holders: [holder(true)],
    shared: false,
    refusals: [],
    failedAudits: [],
  },
  {
    cid: `3${'0'.repeat(63)}`,
    size: 20,
    names: [],
    created: 2,
    local: false,
    wanted: 2,
    holders: [],
    shared: false,
    refusals: [],
    failedAudits: [],
  },
]
const cids = (list: { cid: string }[]) => list.map((o) => o.cid[0])

describe('cas ls selection', () => {
  it('sorts by name (nameless last), size, date and replicas (least healthy first), and reverses', () => {
    expect(cids(selectObjects(objects, { sort: 'name' }))).toEqual(['2', '1', '3'])
    expect(cids(selectObjects(objects, { sort: 'size' }))).toEqual(['2', '3', '1'])
    expect(cids(selectObjects(objects, { sort: 'date' }))).toEqual(['2', '3', '1'])
    expect(cids(selectObjects(objects, { sort: 'replicas' }))).toEqual(['3', '2', '1'])
    expect(cids(selectObjects(objects, { sort: 'size', reverse: true }))).toEqual(['1', '3', '2'])
    expect(cids(selectObjects(objects, {}))).toEqual(['1', '2', '3'])
  })

  it('filters by a piece of a name (any case) or a cid prefix, and by under-replication', () => {
    expect(cids(selectObjects(objects, { match: 'APPLE' }))).toEqual(['2'])
    expect(cids(selectObjects(objects, { match: '.jpg' }))).toEqual(['1'])
    expect(cids(selectObjects(objects, { match: '30' }))).toEqual(['3'])
    expect(cids(selectObjects(objects, { underReplicated: true }))).toEqual(['2', '3'])
  })

  it('refuses an unknown sort key as a usage error', () => {
    expect(() => selectObjects(objects, { sort: 'colour' })).toThrow(
      /--sort takes one of name, size, date, replicas/,
    )
  })
})

describe('cas ls PATH', () => {
  it('takes the names at a path or under it as a folder, not those that only start alike', () => {
    expect(isUnder('photos/a.jpg', 'photos')).toBe(true)
    expect(isUnder('photos/2026/b.jpg', 'photos/')).toBe(true)
    expect(isUnder('photos', 'photos')).toBe(true)
    expect(isUnder('photos-old/c.jpg', 'photos')).toBe(false)
    expect(isUnder('docs/a.txt', '')).toBe(true)
    const named = (names: string[]) => ({ ...objects[0]!, names })
    const list = [
      named(['photos/a.jpg']),
      named(['photos-old/c.jpg']),
      named(['docs/x', 'photos/2026/b.jpg']),
    ]
    expect(selectObjects(list, { path: 'photos' }).map((o) => o.names)).toEqual([
      ['photos/a.jpg'],
      ['docs/x', 'photos/2026/b.jpg'],
    ])
  })

  it('names the folders directly under a path, with how many names each holds', () => {
    const names = ['photos/a.jpg', 'photos/2026/b.jpg', 'photos/2026/c.jpg', 'photos/2025/x/y.jpg', 'docs/z']
    expect(subfolders(names, 'photos')).toEqual(
      new Map([
        ['2026', 2],
        ['2025', 1],
      ]),
    )
    expect(subfolders(names, '')).toEqual(
      new Map([
        ['photos', 4],
        ['docs', 1],
      ]),
    )
  })
})
