import { describe, expect, it } from 'vitest'
import { displayName, filterObjects, nextSort, sortObjects } from '../app/lib/file-table.js'
import { hex, object } from './objects.js'

const photo = object({ cid: hex('ab12'), names: ['Photo 10.jpg'], size: 300, created: 3000, wanted: 2 })
const notes = object({
  cid: hex('cd34'),
  names: ['notes.txt', 'backup/notes.txt'],
  size: 10,
  created: 1000,
  holders: [
    { nodeId: hex('1'), live: true },
    { nodeId: hex('2'), live: true },
  ],
})
const photo2 = object({ cid: hex('ef56'), names: ['photo 9.jpg'], size: 300, created: '2000' })
const unnamed = object({ cid: hex('0099'), size: 50, created: 4000 })
const all = [photo, notes, photo2, unnamed]

describe('filterObjects', () => {
  it('keeps everything for an empty or blank query', () => {
    expect(filterObjects(all, '')).toHaveLength(4)
    expect(filterObjects(all, '   ')).toHaveLength(4)
  })

  it('matches any name, in any case', () => {
    expect(filterObjects(all, 'PHOTO').map((o) => o.cid)).toEqual([photo.cid, photo2.cid])
    expect(filterObjects(all, 'backup/').map((o) => o.cid)).toEqual([notes.cid])
  })

  it('matches the start of a cid, not its middle', () => {
    expect(filterObjects(all, 'CD3').map((o) => o.cid)).toEqual([notes.cid])
    expect(filterObjects(all, '0099')).toEqual([unnamed])
    expect(filterObjects(all, 'b12')).toEqual([])
  })
})

describe('sortObjects', () => {
  const cids = (list: { cid: string }[]): string[] => list.map((o) => o.cid)

  it('sorts names naturally (9 before 10) and ignores case', () => {
    const sorted = sortObjects(all, { key: 'name', direction: 'ascending' })
    expect(sorted.map(displayName)).toEqual(['009900000000', 'notes.txt', 'photo 9.jpg', 'Photo 10.jpg'])
  })

  it('sorts by size, ties broken by cid in both directions', () => {
    expect(cids(sortObjects(all, { key: 'size', direction: 'ascending' }))).toEqual([
      notes.cid,
      unnamed.cid,
      photo.cid,
      photo2.cid,
    ])
    expect(cids(sortObjects(all, { key: 'size', direction: 'descending' }))).toEqual([
      photo.cid,
      photo2.cid,
      unnamed.cid,
      notes.cid,
    ])
  })

  it('sorts by date, reading string dates too', () => {
    expect(cids(sortObjects(all, { key: 'created', direction: 'descending' }))).toEqual([
      unnamed.cid,
      photo.cid,
      photo2.cid,
      notes.cid,
    ])
  })

  it('sorts by live replicas', () => {
    expect(sortObjects(all, { key: 'replicas', direction: 'descending' })[0]).toBe(notes)
  })

  it('does not change its input', () => {
    const input = [...all]
    sortObjects(input, { key: 'size', direction: 'ascending' })
    expect(input).toEqual(all)
  })
})

describe('nextSort', () => {
  it('flips the same column and starts others in their natural direction', () => {
    expect(nextSort({ key: 'size', direction: 'descending' }, 'size')).toEqual({
      key: 'size',
      direction: 'ascending',
    })
    expect(nextSort({ key: 'size', direction: 'ascending' }, 'name')).toEqual({
      key: 'name',
      direction: 'ascending',
    })
    expect(nextSort({ key: 'name', direction: 'ascending' }, 'created')).toEqual({
      key: 'created',
      direction: 'descending',
    })
  })
})

describe('displayName', () => {
  it('is the first name, else the start of the cid', () => {
    expect(displayName(notes)).toBe('notes.txt')
    expect(displayName(unnamed)).toBe('009900000000')
  })
})
