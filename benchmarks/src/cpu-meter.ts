import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'

/**
 * CPU time spent over a span of the bench: by each node process in it and by the bench process itself (the
 * HTTP client of every figure, and `Store.put`'s process), user + system, every thread counted (Linux).
 *
 * Why: on a machine with few cores the nodes of a cluster, their client and the lone baseline share the
 * same cores, so a figure can be bound by the CPU all of them need together rather than by any wait. The
 * bench prints where the CPU went and, for the figures with a target ratio, records the bound it implies.
 */
export interface CpuSpan {
  /** CPU seconds of each process, in the order of the pids given. */
  processes: number[]
  /** CPU seconds of each process's main thread (its event loop), in the same order. */
  mainThreads: number[]
  /** CPU seconds of the bench process. */
  bench: number
  /** Wall seconds. */
  seconds: number
}

export interface CpuMark {
  pids: readonly number[]
  processes: number[]
  mainThreads: number[]
  bench: NodeJS.CpuUsage
  at: number
}

/** Cores the bench shares with its nodes. */
export const CORES = availableParallelism()

export async function cpuMark(pids: readonly number[]): Promise<CpuMark> {
  const processes = await Promise.all(pids.map((pid) => cpuSeconds(pid)))
  const mainThreads = await Promise.all(pids.map(mainThreadSeconds))
  return { pids, processes, mainThreads, bench: process.cpuUsage(), at: performance.now() }
}

/** The CPU spent since `from`, by the same processes. */
export async function cpuSince(from: CpuMark): Promise<CpuSpan> {
  const now = await Promise.all(from.pids.map((pid) => cpuSeconds(pid)))
  const mains = await Promise.all(from.pids.map(mainThreadSeconds))
  const bench = process.cpuUsage(from.bench)
  return {
    processes: now.map((v, i) => v - (from.processes[i] ?? 0)),
    mainThreads: mains.map((v, i) => v - (from.mainThreads[i] ?? 0)),
    bench: (bench.user + bench.system) / 1e6,
    seconds: (performance.now() - from.at) / 1000,
  }
}

/** Every process's CPU seconds in the span, the bench's included. */
export function totalCpu(span: CpuSpan): number {
  return span.processes.reduce((a, b) => a + b, 0) + span.bench
}

/** The span's CPU as a share of its wall time, in percent (100 = one core busy throughout). */
export function busyPercent(span: CpuSpan): number {
  return Math.round((totalCpu(span) / span.seconds) * 100)
}

/**
 * The most units (MiB, puts) per second that the CPU measured in `span` for `units` allows on CORES cores:
 * the rate if every core did nothing else and never waited. A figure cannot pass it by removing waits; only
 * less CPU per unit (or more cores) raises it.
 */
export function cpuBound(span: CpuSpan, units: number): number {
  return (units * CORES) / totalCpu(span)
}

/**
 * The most units per second one process's main thread allows, from its CPU in `span`: a node runs its
 * event loop (HTTP, sealing small objects, signing, the catalogue's transactions) on one thread, so no
 * number of cores lets it pass this. Index `i` is the process's place in the pids given.
 */
export function mainThreadBound(span: CpuSpan, units: number, i: number): number {
  return units / (span.mainThreads[i] ?? Number.NaN)
}

/** CPU time (user + system) a process has used so far, in seconds (Linux); with `tid`, of that thread only. */
export async function cpuSeconds(pid: number, tid?: number): Promise<number> {
  const stat = await readFile(
    tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`,
    'utf8',
  )
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** CPU time of a process's main thread (the thread whose id is the process's), in seconds (Linux). */
function mainThreadSeconds(pid: number): Promise<number> {
  return cpuSeconds(pid, pid)
}
