import { useApi } from '../hooks/use-api.js'
import { usePoll } from '../hooks/use-poll.js'
import { formatBytes, formatDateTime } from '../lib/format.js'
import { ErrorNote } from './error-note.js'
import { ScrollTable } from './scroll-table.js'

/** Folders recorded with `cas put -r`, newest first. */
export function SnapshotsSection() {
  const api = useApi()
  const snapshots = usePoll(() => api.snapshots(), 10_000)
  const list = [...(snapshots.data ?? [])].reverse()
  return (
    <section aria-labelledby="snapshots-heading">
      <h2 id="snapshots-heading">Folders</h2>
      {snapshots.error && <ErrorNote error={snapshots.error} prefix="Could not load the snapshots" />}
      {snapshots.data && list.length === 0 && (
        <p class="muted">
          No folder snapshots yet: <code>cas put -r &lt;folder&gt;</code> records one.
        </p>
      )}
      {list.length > 0 && (
        <ScrollTable label="Folder snapshots">
          <table>
            <thead>
              <tr>
                <th scope="col">Folder</th>
                <th scope="col">Snapshot</th>
                <th scope="col">Date</th>
                <th scope="col" class="num">
                  Files
                </th>
                <th scope="col" class="num">
                  Size
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr key={s.id} data-snapshot={s.id}>
                  <td class="file-name">{s.root}</td>
                  <td>
                    <code class="id">{s.id}</code>
                  </td>
                  <td class="nowrap">{formatDateTime(s.at)}</td>
                  <td class="num">{s.files}</td>
                  <td class="num">{formatBytes(s.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollTable>
      )}
    </section>
  )
}
