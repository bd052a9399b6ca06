import { execFileSync } from 'node:child_process'
import { cpus, loadavg, totalmem } from 'node:os'

export interface MachineInfo {
  date: string
  cores: number
  cpu: string
  memoryGiB: number
  node: string
  openssl: string
  platform: string
  commit: string
  /** 1-minute load average when the run started and when it ended: other work on the machine skews figures. */
  load: { start: number; end: number }
}

export function machineInfo(loadAtStart: number): MachineInfo {
  let commit = 'unknown'
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
  } catch {
    // Not a git checkout: the figure stays useful without it.
  }
  return {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    openssl: process.versions.openssl ?? 'unknown',
    platform: `${process.platform} ${process.arch}`,
    commit,
    load: { start: loadAtStart, end: loadavg()[0] ?? 0 },
  }
}
