import type { Sort, SortKey } from '../lib/file-table.js'

interface Props {
  label: string
  column: SortKey
  sort: Sort
  onSort(key: SortKey): void
  /** Right-aligned, over a column of numbers. */
  numeric?: boolean
}

/** A column header whose button sorts by it; `aria-sort` tells which column sorts, and which way. */
export function SortHeader({ label, column, sort, onSort, numeric }: Props) {
  const active = sort.key === column
  return (
    <th scope="col" class={numeric ? 'num' : undefined} aria-sort={active ? sort.direction : undefined}>
      <button type="button" class="sort" onClick={() => onSort(column)}>
        {label}
        <span class="sort-arrow" aria-hidden="true">
          {active ? (sort.direction === 'ascending' ? '▲' : '▼') : '↕'}
        </span>
      </button>
    </th>
  )
}
