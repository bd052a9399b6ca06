import type { ApiClient } from './api-client.js'
import { ApiError } from './api-error.js'
import { backoffDelay } from './backoff.js'
import { type SseEvent, SseParser } from './sse-parser.js'

export type StreamState = 'connecting' | 'live' | 'reconnecting'

export interface EventStreamHandlers {
  /** Each time the stream is up (again): the moment to fetch the state it will update. */
  onOpen(): void
  onEvent(event: SseEvent): void
  onState(state: StreamState): void
  /** The node refused the token: the stream stops. */
  onUnauthenticated(): void
}

/** The node sends a heartbeat every 15 s: this long without a byte means the connection is dead. */
const SILENCE_MS = 45_000
/** A connection up this long counts as a success for the backoff. */
const STABLE_MS = 10_000

/**
 * Follows `GET /v1/events` until `signal` aborts. EventSource cannot send the bearer token, so this
 * reads the body with fetch and parses it itself. When the stream ends or fails it reconnects after
 * 1 s, doubling up to 30 s while attempts keep failing.
 */
export async function followEvents(
  api: ApiClient,
  handlers: EventStreamHandlers,
  signal: AbortSignal,
): Promise<void> {
  let attempt = 0
  let lastEventId = ''
  while (!signal.aborted) {
    const connection = new AbortController()
    const abort = (): void => connection.abort()
    signal.addEventListener('abort', abort)
    let watchdog: ReturnType<typeof setTimeout> | undefined
    let openedAt: number | undefined
    const feed = (): void => {
      clearTimeout(watchdog)
      watchdog = setTimeout(abort, SILENCE_MS)
    }
    try {
      const headers: Record<string, string> = {
        Authorization: `Bearer ${api.token}`,
        Accept: 'text/event-stream',
      }
      if (lastEventId !== '') headers['Last-Event-ID'] = lastEventId
      feed()
      const response = await fetch('/v1/events', { headers, signal: connection.signal, cache: 'no-store' })
      if (response.status === 401) {
        handlers.onUnauthenticated()
        return
      }
      if (!response.ok || !response.body)
        throw new ApiError(`HTTP_${response.status}`, 'event stream refused', 0)
      openedAt = Date.now()
      handlers.onState('live')
      handlers.onOpen()
      const reader = response.body.getReader()
      // stream: a UTF-8 character cut between two reads is decoded whole with the second.
      const decoder = new TextDecoder()
      const parser = new SseParser()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        feed()
        for (const event of parser.push(decoder.decode(value, { stream: true }))) {
          lastEventId = event.lastEventId
          handlers.onEvent(event)
        }
      }
      parser.end()
    } catch {
      // Ended, cut or refused: reconnect below.
    } finally {
      clearTimeout(watchdog)
      signal.removeEventListener('abort', abort)
    }
    if (signal.aborted) return
    // A connection that stayed up a while starts the backoff over; one cut at once keeps growing it.
    if (openedAt !== undefined && Date.now() - openedAt > STABLE_MS) attempt = 0
    handlers.onState('reconnecting')
    await sleep(backoffDelay(attempt++), signal)
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done)
  })
}
