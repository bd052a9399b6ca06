import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))
const GiB = 1024 ** 3
const MiB = 1024 ** 2

interface Report {
  plainBytes: number
  openedBytes: number
  sealedBytes: number
  expectedSealedBytes: number
  plainSha256: string
  openedSha256: string
  maxRssBytes: number
  seconds: number
}

// a child process, so that the peak RSS measured is that of the streams alone, not of vitest
async function roundTrip(bytes: number): Promise<Report> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', join(here, 'helpers', 'gib-round-trip.ts'), String(bytes)],
    { cwd: join(here, '..'), timeout: 110_000, maxBuffer: MiB },
  )
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Report
}

describe('a 1 GiB stream', () => {
  it('round-trips through the encrypt and decrypt Transforms with peak RSS under 150 MiB', async () => {
    const report = await roundTrip(GiB)
    const small = await roundTrip(64 * MiB)
    expect(small.openedSha256).toBe(small.plainSha256)
    expect(report.plainBytes).toBe(GiB)
    expect(report.openedBytes).toBe(GiB)
    expect(report.sealedBytes).toBe(report.expectedSealedBytes)
    expect(report.openedSha256).toBe(report.plainSha256)
    expect(report.maxRssBytes).toBeGreaterThan(0)
    expect(report.maxRssBytes).toBeLessThan(150 * MiB)
    // flat: sixteen times the data costs little more memory than 64 MiB did
    expect(report.maxRssBytes - small.maxRssBytes).toBeLessThan(48 * MiB)
    console.log(
      `1 GiB round trip: ${report.seconds.toFixed(1)} s, peak RSS ${(report.maxRssBytes / MiB).toFixed(0)} MiB ` +
        `(64 MiB: ${(small.maxRssBytes / MiB).toFixed(0)} MiB)`,
    )
  }, 120_000)
})
