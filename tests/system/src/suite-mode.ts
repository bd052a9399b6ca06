import { appendFileSync } from 'node:fs'

/**
 * Bounded (CI) or soak mode. `pnpm test` runs the bounded suite in a few minutes; `pnpm soak` sets
 * CAS_SOAK=1 and each fault runs more iterations on bigger data. Flags (environment):
 * - CAS_SOAK=1                     soak mode
 * - CAS_SOAK_ITERATIONS=<n>        iterations of each fault (overrides both modes' defaults)
 * - CAS_SOAK_SCALE=<x>             multiplies soak sizes and counts (default 1)
 * - CAS_SOAK_REPORT=<file>         each test appends its figures there as JSON lines
 */
export const SOAK = process.env.CAS_SOAK === '1'

const scale = Number(process.env.CAS_SOAK_SCALE ?? '1')
const iterationsOverride = process.env.CAS_SOAK_ITERATIONS
  ? Number(process.env.CAS_SOAK_ITERATIONS)
  : undefined

/** How many times to repeat a fault: `ci` in the bounded mode, `soak` (scaled) in the soak mode. */
export function iterations(ci: number, soak: number): number {
  if (iterationsOverride !== undefined && Number.isInteger(iterationsOverride) && iterationsOverride > 0) {
    return iterationsOverride
  }
  return SOAK ? Math.max(1, Math.round(soak * scale)) : ci
}

/** A size or count: `ci` in the bounded mode, `soak` (scaled) in the soak mode. */
export function amount(ci: number, soak: number): number {
  return SOAK ? Math.max(1, Math.round(soak * scale)) : ci
}

/** Figures a test reports: printed, and appended to CAS_SOAK_REPORT for docs/reliability.md. */
export interface Figures {
  /** The promise checked, e.g. 'crash during write'. */
  fault: string
  iterations: number
  objectsChecked: number
  objectsLost: number
  corruptBytesReturned: number
  [extra: string]: string | number
}

export function reportFigures(figures: Figures): void {
  const line = JSON.stringify({ ...figures, mode: SOAK ? 'soak' : 'ci', at: new Date().toISOString() })
  console.log(`[figures] ${line}`)
  const file = process.env.CAS_SOAK_REPORT
  if (file) appendFileSync(file, `${line}\n`)
}
