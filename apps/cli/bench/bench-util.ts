import { spawn } from 'node:child_process'
import { appendFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

export const CAS_BIN = fileURLToPath(new URL('../bin/cas.js', import.meta.url))
export const QUICK = process.env.CAS_BENCH_QUICK === '1'

export interface BenchFigure {
  name: string
  unit: string
  value: number
  higherIsBetter?: boolean
  baseline?: { name: string; value: number }
}

/** Prints a figure and, when CAS_BENCH_JSON names a file, appends it there (see benchmarks/). */
export async function report(figure: BenchFigure): Promise<void> {
  const ratio = figure.baseline
    ? figure.higherIsBetter === false
      ? figure.baseline.value / figure.value
      : figure.value / figure.baseline.value
    : undefined
  const base = figure.baseline
    ? `  baseline ${figure.baseline.name}: ${figure.baseline.value.toFixed(1)} ${figure.unit}  ratio ${ratio?.toFixed(2)}`
    : ''
  console.log(`${figure.name.padEnd(44)} ${figure.value.toFixed(1).padStart(9)} ${figure.unit}${base}`)
  const file = process.env.CAS_BENCH_JSON
  if (file) await appendFile(file, `${JSON.stringify({ suite: 'cli', ...figure })}\n`)
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Runs a command to completion; resolves with its wall time in ms. */
export function timeRun(args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: 'ignore', env: { ...process.env, ...env } })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${args.join(' ')} exited with ${code}`))
      else resolve(performance.now() - started)
    })
  })
}
