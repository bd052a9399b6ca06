import type { Transfer } from '@cas/api'
import { ScrollTable } from '../components/scroll-table.js'
import { ShortId } from '../components/short-id.js'
import type { ActivityStream } from '../hooks/use-activity-stream.js'
import { formatBytes, formatTime, percent, shortId } from '../lib/format.js'

const KIND_LABEL: Readonly<Record<Transfer['kind'], string>> = {
  upload: 'Upload',
  download: 'Download',
  'replica-out': 'Replica sent',
  'replica-in': 'Replica received',
  fetch: 'Fetch',
}

/** What the node is doing now and what it did last, as the event stream tells it. */
export function ActivityPage({ stream }: { stream: ActivityStream }) {
  return (
    <>
      <h1 tabIndex={-1}>Activity</h1>
      <section aria-labelledby="transfers-heading">
        <h2 id="transfers-heading">In progress</h2>
        {stream.transfers.length === 0 ? (
          <p class="muted">No transfer in progress.</p>
        ) : (
          <ul class="transfers">
            {stream.transfers.map((t) => (
              <TransferItem key={t.id} transfer={t} />
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="events-heading">
        <h2 id="events-heading">Recent events</h2>
        {stream.recent.length === 0 ? (
          <p class="muted">Nothing has happened yet.</p>
        ) : (
          <ScrollTable label="Event log">
            <table class="events">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Type</th>
                  <th scope="col">Event</th>
                </tr>
              </thead>
              <tbody>
                {stream.recent.map((e) => (
                  <tr key={e.seq} data-seq={e.seq} data-type={e.type}>
                    <td class="nowrap">
                      <time dateTime={new Date(e.at).toISOString()}>{formatTime(e.at)}</time>
                    </td>
                    <td>
                      <span class={`tag tag-${e.type}`}>{e.type}</span>
                    </td>
                    <td>
                      {e.message}
                      {e.code && <span class="muted"> ({e.code})</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollTable>
        )}
      </section>
    </>
  )
}

function TransferItem({ transfer: t }: { transfer: Transfer }) {
  const kind = KIND_LABEL[t.kind]
  const what = t.name ?? (t.cid ? shortId(t.cid, 12) : 'object')
  return (
    <li class="transfer" data-transfer-id={t.id} data-kind={t.kind}>
      <span class="transfer-what">
        <span class="tag">{kind}</span> <span class="file-name">{what}</span>
        {t.peer && (
          <span class="muted">
            {' '}
            {t.kind === 'replica-out' ? 'to' : 'from'} <ShortId id={t.peer} length={8} />
          </span>
        )}
      </span>
      {t.total !== undefined ? (
        <span class="transfer-progress">
          <progress max={Math.max(t.total, 1)} value={t.bytes} aria-label={`${kind} ${what}`} />
          <span>
            {formatBytes(t.bytes)} of {formatBytes(t.total)} ({percent(t.bytes, t.total)}%)
          </span>
        </span>
      ) : (
        <span class="transfer-progress">{formatBytes(t.bytes)} so far</span>
      )}
    </li>
  )
}
