import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { type ApiError, toApiError } from '../lib/api-error.js'

export interface Polled<T> {
  /** The last answer; kept while a later one fails. */
  data: T | undefined
  /** The last failure, cleared by the next success. */
  error: ApiError | undefined
  /** Load again now (after an action), without waiting for the next tick. */
  refresh(): void
}

/**
 * Calls `load` now and then `intervalMs` after each answer: never two at once, so a slow node is
 * not piled up on.
 */
export function usePoll<T>(load: () => Promise<T>, intervalMs: number): Polled<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | undefined }>({
    data: undefined,
    error: undefined,
  })
  const loadRef = useRef(load)
  loadRef.current = load
  const kick = useRef<() => void>(() => {})

  useEffect(() => {
    let stopped = false
    let running = false
    let again = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const run = async (): Promise<void> => {
      if (running) {
        again = true
        return
      }
      running = true
      clearTimeout(timer)
      try {
        const data = await loadRef.current()
        if (!stopped) setState({ data, error: undefined })
      } catch (error) {
        if (!stopped) setState((s) => ({ data: s.data, error: toApiError(error) }))
      }
      running = false
      if (stopped) return
      if (again) {
        again = false
        void run()
        return
      }
      timer = setTimeout(run, intervalMs)
    }
    kick.current = () => void run()
    void run()
    return () => {
      stopped = true
      clearTimeout(timer)
      kick.current = () => {}
    }
  }, [intervalMs])

  const refresh = useCallback(() => kick.current(), [])
  return { ...state, refresh }
}
