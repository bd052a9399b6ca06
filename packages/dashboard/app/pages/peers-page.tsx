import { type ActivityEvent, ConnectBodySchema, type PeerInfo } from '@cas/api'
import type { TargetedSubmitEvent } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { ErrorNote } from '../components/error-note.js'
import { ScrollTable } from '../components/scroll-table.js'
import { ShortId } from '../components/short-id.js'
import { useApi } from '../hooks/use-api.js'
import { usePoll } from '../hooks/use-poll.js'
import { formatAgo, formatBytes, formatDateTime, shortId } from '../lib/format.js'

/** The peers this node knows, what they hold for each other, and a form to dial one. */
export function PeersPage({ newestEvent }: { newestEvent: ActivityEvent | undefined }) {
  const api = useApi()
  const peers = usePoll(() => api.peers(), 2000)
  const { refresh } = peers
  const newestSeq = newestEvent?.type === 'peer' ? newestEvent.seq : undefined
  useEffect(() => {
    if (newestSeq !== undefined) refresh()
  }, [newestSeq, refresh])

  // Connected first, then by id, so rows stay put between polls.
  const list = [...(peers.data ?? [])].sort(
    (a, b) => Number(b.connected) - Number(a.connected) || (a.nodeId < b.nodeId ? -1 : 1),
  )
  return (
    <>
      <h1 tabIndex={-1}>Peers</h1>
      <AddPeerForm onAdded={refresh} />
      <section aria-labelledby="peers-heading">
        <h2 id="peers-heading">Known peers</h2>
        {peers.error && <ErrorNote error={peers.error} prefix="Could not load the peers" />}
        {!peers.data && !peers.error && <p role="status">Loading…</p>}
        {peers.data && list.length === 0 && <p class="muted">No peers yet: add one by its address above.</p>}
        {list.length > 0 && (
          <ScrollTable label="Peer list">
            <table class="peers">
              <thead>
                <tr>
                  <th scope="col">Peer</th>
                  <th scope="col">Address</th>
                  <th scope="col">State</th>
                  <th scope="col">Connected since</th>
                  <th scope="col" class="num">
                    Received
                  </th>
                  <th scope="col" class="num">
                    Sent
                  </th>
                  <th scope="col">Holds for you</th>
                  <th scope="col">You hold for it</th>
                </tr>
              </thead>
              <tbody>
                {list.map((p) => (
                  <PeerRow key={p.nodeId} peer={p} />
                ))}
              </tbody>
            </table>
          </ScrollTable>
        )}
      </section>
    </>
  )
}

const usage = (u: { objects: number; bytes: number }): string =>
  `${u.objects} ${u.objects === 1 ? 'replica' : 'replicas'}, ${formatBytes(u.bytes)}`

function PeerRow({ peer }: { peer: PeerInfo }) {
  return (
    <tr data-peer={peer.nodeId} data-connected={String(peer.connected)}>
      <td>
        <ShortId id={peer.nodeId} />
      </td>
      <td>{peer.addr ? <code>{peer.addr}</code> : <span class="muted">unknown</span>}</td>
      <td>
        <span class={peer.connected ? 'badge badge-live' : 'badge badge-down'}>
          {peer.connected ? 'connected' : 'disconnected'}
        </span>
      </td>
      <td class="nowrap">
        {peer.connected && peer.connectedAt !== undefined ? (
          <span title={formatDateTime(peer.connectedAt)}>{formatAgo(peer.connectedAt, Date.now())}</span>
        ) : (
          '–'
        )}
      </td>
      <td class="num">{formatBytes(peer.bytesIn)}</td>
      <td class="num">{formatBytes(peer.bytesOut)}</td>
      <td class="nowrap">{usage(peer.holds)}</td>
      <td class="nowrap">{usage(peer.heldForIt)}</td>
    </tr>
  )
}

function AddPeerForm({ onAdded }: { onAdded(): void }) {
  const api = useApi()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const [done, setDone] = useState('')

  const submit = async (e: TargetedSubmitEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault()
    const form = e.currentTarget
    setError(undefined)
    setDone('')
    const body = ConnectBodySchema.safeParse({ addr: String(new FormData(form).get('addr') ?? '').trim() })
    if (!body.success) {
      setError(new Error('Enter the address as host:port, for example 127.0.0.1:4001.'))
      return
    }
    setBusy(true)
    try {
      const peer = await api.connectPeer(body.data.addr)
      setDone(`Connected to ${shortId(peer.nodeId)} at ${body.data.addr}.`)
      form.reset()
      onAdded()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }

  return (
    <section aria-labelledby="add-peer-heading">
      <h2 id="add-peer-heading">Add a peer</h2>
      <form class="toolbar" onSubmit={submit}>
        <label for="peer-address">Peer address</label>
        <input
          id="peer-address"
          name="addr"
          type="text"
          placeholder="host:port"
          autocomplete="off"
          spellcheck={false}
        />
        <button type="submit" class="primary" disabled={busy}>
          Add peer
        </button>
      </form>
      {error !== undefined && <ErrorNote error={error} prefix="Could not add the peer" />}
      <p role="status" class="muted">
        {done}
      </p>
    </section>
  )
}
