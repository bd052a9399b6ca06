import type { ObjectInfo } from '@cas/api'
import { displayName, type Sort, type SortKey } from '../lib/file-table.js'
import { formatBytes, formatDateTime, shortId, toMillis } from '../lib/format.js'
import { liveReplicas } from '../lib/holder-state.js'
import { HolderBadges } from './holder-badges.js'
import { ScrollTable } from './scroll-table.js'
import { SortHeader } from './sort-header.js'

interface Props {
  objects: ObjectInfo[]
  sort: Sort
  onSort(key: SortKey): void
  onDownload(object: ObjectInfo): void
  onShare(object: ObjectInfo): void
  onDelete(object: ObjectInfo): void
}

const SORT_NAMES: Readonly<Record<SortKey, string>> = {
  name: 'name',
  size: 'size',
  created: 'date',
  replicas: 'replicas',
}

export function FilesTable({ objects, sort, onSort, onDownload, onShare, onDelete }: Props) {
  return (
    <ScrollTable label="Files">
      <table class="files">
        <caption class="visually-hidden">
          Files, sorted by {SORT_NAMES[sort.key]}, {sort.direction}
        </caption>
        <thead>
          <tr>
            <SortHeader label="Name" column="name" sort={sort} onSort={onSort} />
            <SortHeader label="Size" column="size" sort={sort} onSort={onSort} numeric />
            <SortHeader label="Date" column="created" sort={sort} onSort={onSort} />
            <SortHeader label="Replicas" column="replicas" sort={sort} onSort={onSort} numeric />
            <th scope="col">Holders</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {objects.map((o) => (
            <FileRow key={o.cid} object={o} onDownload={onDownload} onShare={onShare} onDelete={onDelete} />
          ))}
        </tbody>
      </table>
    </ScrollTable>
  )
}

function FileRow({
  object,
  onDownload,
  onShare,
  onDelete,
}: { object: ObjectInfo } & Pick<Props, 'onDownload' | 'onShare' | 'onDelete'>) {
  const name = displayName(object)
  const live = liveReplicas(object)
  const others = object.names.slice(1)
  return (
    <tr data-cid={object.cid} data-name={object.names[0] ?? ''}>
      <td class="name-cell">
        <span class="file-name">{name}</span>
        {others.length > 0 && (
          <span class="muted" title={others.join('\n')}>
            {' '}
            +{others.length} more {others.length === 1 ? 'name' : 'names'}
          </span>
        )}
        {object.shared && <span class="tag">shared with you</span>}
        <br />
        <code class="id muted" title={object.cid}>
          {shortId(object.cid, 12)}
        </code>
      </td>
      <td class="num">{formatBytes(object.size)}</td>
      <td class="nowrap">{formatDateTime(toMillis(object.created))}</td>
      <td
        class={live < object.wanted ? 'num replicas-short' : 'num'}
        data-testid="replicas"
        data-live={live}
        data-wanted={object.wanted}
      >
        {live}/{object.wanted}
      </td>
      <td>
        <HolderBadges object={object} />
        {object.refusals.length > 0 && (
          <p class="refusals muted">
            Refused by{' '}
            {object.refusals.map((r, i) => (
              <span key={r.nodeId} title={`${r.nodeId}: ${r.message}`}>
                {i > 0 ? ', ' : ''}
                {shortId(r.nodeId, 6)} ({r.code})
              </span>
            ))}
          </p>
        )}
      </td>
      <td class="actions">
        <button
          type="button"
          class="small"
          aria-label={`Download ${name}`}
          onClick={() => onDownload(object)}
        >
          Download
        </button>
        <button type="button" class="small" aria-label={`Share ${name}`} onClick={() => onShare(object)}>
          Share
        </button>
        <button
          type="button"
          class="small danger"
          aria-label={`Delete ${name}`}
          onClick={() => onDelete(object)}
        >
          Delete
        </button>
      </td>
    </tr>
  )
}
