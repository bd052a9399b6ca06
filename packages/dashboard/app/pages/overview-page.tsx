import type { Repair, Status } from '@cas/api'
import { ErrorNote } from '../components/error-note.js'
import { ShortId } from '../components/short-id.js'
import { ThroughputChart } from '../components/throughput-chart.js'
import { useApi } from '../hooks/use-api.js'
import { usePoll } from '../hooks/use-poll.js'
import { formatAgo, formatBytes, formatDuration, percent } from '../lib/format.js'

/** The node at a glance: who it is, its peers, its storage, its traffic and its repair state. */
export function OverviewPage() {
  const api = useApi()
  const status = usePoll(() => api.status(), 2000)
  const traffic = usePoll(() => api.traffic(), 2000)
  const s = status.data
  return (
    <>
      <h1 tabIndex={-1}>Overview</h1>
      {status.error && <ErrorNote error={status.error} prefix="Could not load the status" />}
      {!s && !status.error && <p role="status">Loading…</p>}
      {s && (
        <div class="cards">
          <NodeCard status={s} />
          <StorageCard status={s} />
          <RepairCard repair={s.repair} />
        </div>
      )}
      <section class="card" aria-labelledby="throughput-heading">
        <h2 id="throughput-heading">Throughput</h2>
        {traffic.error && <ErrorNote error={traffic.error} prefix="Could not load the traffic" />}
        {traffic.data ? <ThroughputChart traffic={traffic.data} /> : !traffic.error && <p>Loading…</p>}
      </section>
    </>
  )
}

function NodeCard({ status }: { status: Status }) {
  return (
    <section class="card" aria-labelledby="node-heading">
      <h2 id="node-heading">Node</h2>
      <dl class="facts">
        <dt>Node id</dt>
        <dd>
          <code class="id wrap" data-testid="node-id">
            {status.nodeId}
          </code>
        </dd>
        <dt>Owner id</dt>
        <dd data-testid="owner-id" data-owner={status.ownerId}>
          <ShortId id={status.ownerId} length={16} />
        </dd>
        <dt>Uptime</dt>
        <dd data-testid="uptime">{formatDuration(status.uptimeSeconds)}</dd>
        <dt>Peers</dt>
        <dd>
          <span data-testid="peers-connected">{status.peers.connected}</span> connected of{' '}
          <span data-testid="peers-known">{status.peers.known}</span> known
        </dd>
        <dt>Version</dt>
        <dd>{status.version}</dd>
      </dl>
    </section>
  )
}

function StorageCard({ status }: { status: Status }) {
  return (
    <section class="card" aria-labelledby="storage-heading">
      <h2 id="storage-heading">Storage</h2>
      <dl class="facts">
        <dt>Your files</dt>
        <dd data-testid="own-bytes">
          {formatBytes(status.bytes)} in {status.objects} {status.objects === 1 ? 'file' : 'files'}
        </dd>
        <dt>Held for others</dt>
        <dd data-testid="held-bytes">
          {status.held
            ? `${formatBytes(status.held.bytes)} in ${status.held.objects} ${status.held.objects === 1 ? 'replica' : 'replicas'}`
            : '–'}
        </dd>
        <dt>Free disk</dt>
        <dd data-testid="disk-free">
          {status.disk ? `${formatBytes(status.disk.free)} of ${formatBytes(status.disk.total)}` : 'unknown'}
        </dd>
      </dl>
    </section>
  )
}

type RepairState = 'healthy' | 'under-replicated' | 'repairing'

function repairState(repair: Repair): RepairState {
  if (repair.repairing > 0 || repair.pass) return 'repairing'
  if (repair.underReplicated > 0) return 'under-replicated'
  return 'healthy'
}

const REPAIR_LABEL: Readonly<Record<RepairState, string>> = {
  healthy: 'Healthy',
  'under-replicated': 'Under-replicated',
  repairing: 'Repairing',
}

function RepairCard({ repair }: { repair: Repair }) {
  const state = repairState(repair)
  const pass = repair.pass
  return (
    <section class="card" aria-labelledby="repair-heading">
      <h2 id="repair-heading">Repair</h2>
      <p class={`state state-${state}`} data-testid="repair-state" data-state={state}>
        {REPAIR_LABEL[state]}
      </p>
      <dl class="facts">
        <dt>Healthy</dt>
        <dd>{repair.healthy}</dd>
        <dt>Under-replicated</dt>
        <dd>{repair.underReplicated}</dd>
        <dt>Repairing</dt>
        <dd>{repair.repairing}</dd>
        {repair.lastRun !== undefined && (
          <>
            <dt>Last pass</dt>
            <dd>{formatAgo(repair.lastRun, Date.now())}</dd>
          </>
        )}
      </dl>
      {pass && (
        <p class="pass">
          <progress max={Math.max(pass.total, 1)} value={pass.checked} aria-label="Repair pass" />{' '}
          {pass.checked} of {pass.total} checked ({percent(pass.checked, pass.total)}%)
        </p>
      )}
    </section>
  )
}
