import { readFile } from 'node:fs/promises'
import { waitFor } from '@cas/test-kit'

/** One line of a node's JSON log (pino): level 30 info, 40 warn, 50 error. */
export interface LogLine {
  level: number
  msg?: string
  [field: string]: unknown
}

/** Every JSON line of a node's log file so far (lines that are not JSON are skipped). */
export async function readLog(file: string): Promise<LogLine[]> {
  const text = await readFile(file, 'utf8').catch(() => '')
  const lines: LogLine[] = []
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('{')) continue
    try {
      lines.push(JSON.parse(raw) as LogLine)
    } catch {
      // a line being written right now
    }
  }
  return lines
}

/** Waits until a line written after `from` (a line count) matches; returns it. */
export async function waitForLog(
  file: string,
  what: string,
  match: (line: LogLine) => boolean,
  opts: { from?: number; timeout?: number } = {},
): Promise<LogLine> {
  return waitFor(
    async () => (await readLog(file)).slice(opts.from ?? 0).find(match),
    opts.timeout ?? 15_000,
    `a log line in ${file}: ${what}`,
  )
}

/** The whole line as text, to match a reason wherever pino put it (msg, err.message, err.code). */
export function logText(line: LogLine): string {
  return JSON.stringify(line)
}
