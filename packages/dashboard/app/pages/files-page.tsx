import type { ActivityEvent, ObjectInfo } from '@cas/api'
import { useEffect, useMemo, useState } from 'preact/hooks'
import { DeleteDialog } from '../components/delete-dialog.js'
import { ErrorNote } from '../components/error-note.js'
import { FilesTable } from '../components/files-table.js'
import { ShareDialog } from '../components/share-dialog.js'
import { SnapshotsSection } from '../components/snapshots-section.js'
import { UploadPanel } from '../components/upload-panel.js'
import { useApi } from '../hooks/use-api.js'
import { usePoll } from '../hooks/use-poll.js'
import { displayName, filterObjects, nextSort, type Sort, sortObjects } from '../lib/file-table.js'

type Dialog = { kind: 'share' | 'delete'; object: ObjectInfo } | undefined

/** The owner's files: upload, search, sort, download, share, delete; and the folder snapshots. */
export function FilesPage({ newestEvent }: { newestEvent: ActivityEvent | undefined }) {
  const api = useApi()
  // When each list was asked for: a row deleted after that is hidden even if the list still has it.
  const objects = usePoll(async () => ({ at: Date.now(), list: await api.objects() }), 2000)
  const [query, setQuery] = useState('')
  const [sort, setSort] = useState<Sort>({ key: 'created', direction: 'descending' })
  const [dialog, setDialog] = useState<Dialog>(undefined)
  const [deleted, setDeleted] = useState<ReadonlyMap<string, number>>(new Map())
  const [actionError, setActionError] = useState<unknown>(undefined)
  const { refresh } = objects

  // Holder states change with transfers, repairs and peers coming and going.
  const newestSeq = newestEvent?.seq
  useEffect(() => {
    if (newestSeq !== undefined) refresh()
  }, [newestSeq, refresh])

  const rows = useMemo(() => {
    const data = objects.data
    if (!data) return []
    const present = data.list.filter((o) => !((deleted.get(o.cid) ?? 0) > data.at))
    return sortObjects(filterObjects(present, query), sort)
  }, [objects.data, deleted, query, sort])

  const download = async (object: ObjectInfo): Promise<void> => {
    setActionError(undefined)
    try {
      const link = await api.downloadLink(object.cid)
      // The one-time link serves the bytes without the token; the browser saves them itself.
      const a = document.createElement('a')
      a.href = link.url
      a.download = displayName(object)
      a.hidden = true
      document.body.append(a)
      a.click()
      a.remove()
    } catch (error) {
      setActionError(error)
    }
  }

  const total = objects.data?.list.length ?? 0
  return (
    <>
      <h1 tabIndex={-1}>Files</h1>
      <UploadPanel token={api.token} onUploaded={refresh} />
      <section aria-labelledby="files-heading">
        <h2 id="files-heading">Your files</h2>
        <div class="toolbar">
          <label for="file-search">Search files</label>
          <input
            id="file-search"
            type="search"
            placeholder="Name or start of cid"
            value={query}
            onInput={(e) => setQuery(e.currentTarget.value)}
          />
          <span class="muted" role="status">
            {objects.data ? `${rows.length} of ${total} shown` : ''}
          </span>
        </div>
        {objects.error && <ErrorNote error={objects.error} prefix="Could not load the files" />}
        {actionError !== undefined && <ErrorNote error={actionError} prefix="Download failed" />}
        {!objects.data && !objects.error && <p role="status">Loading…</p>}
        {objects.data && total === 0 && <p class="muted">No files yet: upload some above.</p>}
        {objects.data && total > 0 && rows.length === 0 && <p class="muted">No file matches “{query}”.</p>}
        {rows.length > 0 && (
          <FilesTable
            objects={rows}
            sort={sort}
            onSort={(key) => setSort((s) => nextSort(s, key))}
            onDownload={download}
            onShare={(object) => setDialog({ kind: 'share', object })}
            onDelete={(object) => setDialog({ kind: 'delete', object })}
          />
        )}
      </section>
      <SnapshotsSection />
      {dialog?.kind === 'share' && (
        <ShareDialog object={dialog.object} onClose={() => setDialog(undefined)} />
      )}
      {dialog?.kind === 'delete' && (
        <DeleteDialog
          object={dialog.object}
          onClose={() => setDialog(undefined)}
          onDeleted={(cid) => {
            setDeleted((m) => new Map(m).set(cid, Date.now()))
            setDialog(undefined)
            refresh()
          }}
        />
      )}
    </>
  )
}
