import { setTimeout as delay } from 'node:timers/promises'
import { AbortedError } from './errors.js'

/**
 * Delay before retry `attempt` (0-based): exponential up to `max`, with half
 * of it random ("equal jitter") so that many nodes retrying at once spread out.
 */
export function backoffDelay(
  attempt: number,
  base: number,
  max: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(max, base * 2 ** attempt)
  return ceiling / 2 + random() * (ceiling / 2)
}

export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : {})
  } catch (err) {
    throw new AbortedError({ cause: err })
  }
}
