import * as z from 'zod'

/**
 * One figure from one run, as each bench appends it (one JSON object per line) to the file named by
 * CAS_BENCH_JSON. A throughput figure carries the baseline measured in the same run on the same data.
 */
export const BenchRecordSchema = z.object({
  suite: z.string().min(1),
  name: z.string().min(1),
  unit: z.string().min(1),
  value: z.number().finite(),
  /** Default true: a larger value is better (MiB/s, ops/s); false for latencies and durations. */
  higherIsBetter: z.boolean().optional(),
  baseline: z.object({ name: z.string().min(1), value: z.number().finite() }).optional(),
})
export type BenchRecord = z.infer<typeof BenchRecordSchema>

export function parseRecords(text: string): BenchRecord[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => BenchRecordSchema.parse(JSON.parse(line)))
}

/** Ratio of a figure to its baseline, oriented so that 1.0 means "as fast as the baseline" and more is better. */
export function ratioOf(record: BenchRecord): number | undefined {
  if (!record.baseline || record.baseline.value === 0 || record.value === 0) return undefined
  return record.higherIsBetter === false
    ? record.baseline.value / record.value
    : record.value / record.baseline.value
}
