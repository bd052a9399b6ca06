import { setFlagsFromString } from 'node:v8'

/**
 * V8 grows the old-generation limit to about 2.4x the live heap after each
 * full collection. The node's live heap is small (about 17 MB), so the slack
 * left is below the young generation's capacity and V8 starts a full marking
 * every ~75 ms while bulk data streams through (154 full collections for
 * 0.75 GiB of gets on the receiving node, about a third of its CPU, on the
 * 2-core machines here). A growing factor of 3x keeps the slack above it
 * (4x: 21 full collections for the same gets); CPU per GiB moved falls by a
 * third on every node, peak RSS stays under 200 MiB (docs/decisions.md, "Heap
 * growth for bulk transfers").
 */
export const HEAP_GROWING_PERCENT = 200

/** Applies HEAP_GROWING_PERCENT unless the process was started with its own `--heap-growing-percent`. */
export function tuneGc(execArgv: readonly string[] = process.execArgv): void {
  if (execArgv.some((a) => a.startsWith('--heap-growing-percent'))) return
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
}
