import type { StreamState } from '../lib/event-stream.js'

const LABEL: Readonly<Record<StreamState, string>> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
}

/** Whether the page follows the node's event stream now. */
export function LiveIndicator({ state }: { state: StreamState }) {
  return (
    <span class={`live live-${state}`} role="status" data-testid="connection-state" data-state={state}>
      <span class="live-dot" aria-hidden="true" />
      {LABEL[state]}
    </span>
  )
}
