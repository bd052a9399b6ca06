import type { ObjectInfo } from '@cas/api'
import { shortId } from '../lib/format.js'
import { HOLDER_STATE_LABEL, holderBadges } from '../lib/holder-state.js'

/** One badge per peer holding (or dropped from holding) a replica, with its state. */
export function HolderBadges({ object }: { object: ObjectInfo }) {
  const badges = holderBadges(object)
  if (badges.length === 0) return <span class="muted">none</span>
  return (
    <ul class="badges">
      {badges.map((b) => (
        <li
          key={b.nodeId}
          class={`badge badge-${b.state}`}
          data-holder={b.nodeId}
          data-state={b.state}
          title={`Peer ${b.nodeId}: ${HOLDER_STATE_LABEL[b.state]}`}
        >
          <span class="id">{shortId(b.nodeId, 6)}</span> {HOLDER_STATE_LABEL[b.state]}
        </li>
      ))}
    </ul>
  )
}
