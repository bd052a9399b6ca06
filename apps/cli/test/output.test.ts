import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { formatBytes, formatTable, Output, ProgressBar } from '../src/index.js'

/** A stream that claims to be a terminal, and keeps what is written to it. */
function fakeTty(isTTY: boolean): NodeJS.WriteStream & { text(): string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { text(): string }
  let text = ''
  stream.on('data', (d: Buffer) => {
    text += d.toString()
  })
  Object.assign(stream, { isTTY, columns: 100, text: () => text })
  return stream
}

function output(opts: { tty: boolean; env?: NodeJS.ProcessEnv; json?: boolean; quiet?: boolean }) {
  const stdout = fakeTty(opts.tty)
  const stderr = fakeTty(opts.tty)
  const out = new Output({
    json: opts.json ?? false,
    quiet: opts.quiet ?? false,
    env: opts.env ?? {},
    stdout,
    stderr,
  })
  return { out, stdout, stderr }
}

describe('Output', () => {
  it('colours messages on a terminal', () => {
    const { out, stderr } = output({ tty: true })
    out.warn('careful')
    expect(stderr.text()).toContain('\x1b[33m')
  })

  it('keeps results plain when stdout is piped even if stderr is a terminal', () => {
    const stdout = fakeTty(false)
    const out = new Output({ json: false, quiet: false, env: {}, stdout, stderr: fakeTty(true) })
    expect(out.green('ok')).toBe('ok')
  })

  it('never colours when NO_COLOR is set', () => {
    const { out, stderr } = output({ tty: true, env: { NO_COLOR: '1' } })
    out.warn('careful')
    expect(stderr.text()).toBe('warning: careful\n')
    expect(out.progress).toBe(true)
  })

  it('shows progress only on a terminal and not with --json or --quiet', () => {
    expect(output({ tty: false }).out.progress).toBe(false)
    expect(output({ tty: true, json: true }).out.progress).toBe(false)
    expect(output({ tty: true, quiet: true }).out.progress).toBe(false)
  })

  it('writes the result as one JSON line on stdout with --json and keeps messages off it', () => {
    const { out, stdout, stderr } = output({ tty: false, json: true })
    out.info('working')
    out.result({ cid: 'abc' }, () => 'abc')
    expect(stdout.text()).toBe('{"cid":"abc"}\n')
    expect(stderr.text()).toBe('')
  })
})

describe('ProgressBar', () => {
  it('draws bytes, percentage, rate and ETA, and ends the line when finished', () => {
    const stream = fakeTty(true)
    const bar = new ProgressBar({ stream, label: 'put x', total: 4 * 1024 * 1024 })
    bar.add(1024 * 1024)
    bar.finish()
    const text = stream.text()
    expect(text).toMatch(
      /^\rput x \[=+ +\] +25% {2}1\.00 MiB \/ 4\.00 MiB {2}[\d.]+ [KMG]?i?B\/s {2}ETA \d+:\d\d/,
    )
    expect(text.endsWith('\n')).toBe(true)
  })
})

describe('formatting', () => {
  it('formats sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.50 KiB')
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.00 GiB')
  })

  it('aligns table columns', () => {
    expect(formatTable(['A', 'BB'], [['xxx', 'y']])).toBe('A    BB\nxxx  y')
  })
})
