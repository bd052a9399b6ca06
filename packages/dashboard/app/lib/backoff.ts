/** First wait before reconnecting the event stream. */
export const BACKOFF_START_MS = 1000
/** Longest wait: a node that comes back is seen within this. */
export const BACKOFF_MAX_MS = 30_000

/** How long to wait before reconnect attempt `attempt` (0 for the first): 1 s, 2 s, 4 s … 30 s. */
export function backoffDelay(attempt: number): number {
  if (attempt <= 0) return BACKOFF_START_MS
  // Capped before the power grows past what a double holds exactly.
  return Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** Math.min(attempt, 16))
}
