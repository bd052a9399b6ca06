import { type ActivityEvent, ActivityEventSchema, TransferSchema } from '@cas/api'
import { useEffect, useState } from 'preact/hooks'
import {
  type ActivityLog,
  applyEvent,
  applySnapshot,
  applyTransfer,
  EMPTY_LOG,
  MAX_EVENTS,
} from '../lib/activity-log.js'
import type { ApiClient } from '../lib/api-client.js'
import { followEvents, type StreamState } from '../lib/event-stream.js'

export interface ActivityStream extends ActivityLog {
  state: StreamState
}

/**
 * The node's transfers and events, live: `GET /v1/activity` on each (re)connect of
 * `GET /v1/events`, then each event the stream brings.
 */
export function useActivityStream(api: ApiClient, onUnauthenticated: () => void): ActivityStream {
  const [log, setLog] = useState<ActivityLog>(EMPTY_LOG)
  const [state, setState] = useState<StreamState>('connecting')

  useEffect(() => {
    const stop = new AbortController()
    // Events of the current connection, merged into the snapshot fetched after it opened.
    let streamed: ActivityEvent[] = []
    let generation = 0
    void followEvents(
      api,
      {
        onOpen() {
          streamed = []
          const mine = ++generation
          api.activity().then(
            (activity) => {
              if (mine === generation && !stop.signal.aborted) setLog(applySnapshot(activity, streamed))
            },
            () => {
              // The stream itself still updates the page; the next reconnect tries again.
            },
          )
        },
        onEvent(event) {
          let json: unknown
          try {
            json = JSON.parse(event.data)
          } catch {
            return
          }
          if (event.type === 'transfer') {
            const transfer = TransferSchema.safeParse(json)
            if (transfer.success) setLog((l) => applyTransfer(l, transfer.data))
          } else if (event.type === 'activity') {
            const parsed = ActivityEventSchema.safeParse(json)
            if (parsed.success) {
              streamed.push(parsed.data)
              if (streamed.length > MAX_EVENTS) streamed.shift()
              setLog((l) => applyEvent(l, parsed.data))
            }
          }
        },
        onState: setState,
        onUnauthenticated,
      },
      stop.signal,
    )
    return () => stop.abort()
  }, [api, onUnauthenticated])

  return { ...log, state }
}
