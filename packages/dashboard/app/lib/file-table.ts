import type { ObjectInfo } from '@cas/api'
import { toMillis } from './format.js'
import { liveReplicas } from './holder-state.js'

export type SortKey = 'name' | 'size' | 'created' | 'replicas'
export type SortDirection = 'ascending' | 'descending'
export interface Sort {
  key: SortKey
  direction: SortDirection
}

/** The name an object is shown and announced by: its first name, else the start of its cid. */
export function displayName(object: Pick<ObjectInfo, 'cid' | 'names'>): string {
  return object.names[0] ?? object.cid.slice(0, 12)
}

/**
 * Objects whose name contains the query (any case), or whose cid starts with it; all of them for
 * an empty query.
 */
export function filterObjects<T extends Pick<ObjectInfo, 'cid' | 'names'>>(
  objects: readonly T[],
  query: string,
): T[] {
  const q = query.trim().toLowerCase()
  if (q === '') return [...objects]
  return objects.filter((o) => o.cid.startsWith(q) || o.names.some((n) => n.toLowerCase().includes(q)))
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })

function compare(a: ObjectInfo, b: ObjectInfo, key: SortKey): number {
  switch (key) {
    case 'name':
      return collator.compare(displayName(a), displayName(b))
    case 'size':
      return a.size - b.size
    case 'created':
      return (toMillis(a.created) || 0) - (toMillis(b.created) || 0)
    case 'replicas':
      return liveReplicas(a) - liveReplicas(b) || a.wanted - b.wanted
  }
}

/** A sorted copy; ties keep a fixed order (by cid) so rows do not jump between polls. */
export function sortObjects(objects: readonly ObjectInfo[], sort: Sort): ObjectInfo[] {
  const sign = sort.direction === 'ascending' ? 1 : -1
  return [...objects].sort(
    (a, b) => sign * compare(a, b, sort.key) || (a.cid < b.cid ? -1 : a.cid > b.cid ? 1 : 0),
  )
}

/** Clicking a column's header: the same column flips, another starts in its natural direction. */
export function nextSort(current: Sort, key: SortKey): Sort {
  if (current.key === key)
    return { key, direction: current.direction === 'ascending' ? 'descending' : 'ascending' }
  // Names read A to Z; sizes, dates and replica counts are most useful largest first.
  return { key, direction: key === 'name' ? 'ascending' : 'descending' }
}
