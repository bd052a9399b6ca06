import { describe, expect, it } from 'vitest'
import {
  formatAgo,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatRate,
  formatTime,
  percent,
  shortId,
  toMillis,
} from '../app/lib/format.js'

describe('formatBytes', () => {
  it('counts in binary units, one decimal below ten', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1023)).toBe('1023 B')
    expect(formatBytes(1024)).toBe('1.0 KiB')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(10 * 1024)).toBe('10 KiB')
    expect(formatBytes(5 * 1024 ** 2)).toBe('5.0 MiB')
    expect(formatBytes(1234 * 1024 ** 3)).toBe('1.2 TiB')
  })

  it('does not show 10.0 for a value that rounds up to ten', () => {
    expect(formatBytes(9.97 * 1024)).toBe('10 KiB')
  })

  it('shows a dash for what is not a size', () => {
    expect(formatBytes(-1)).toBe('–')
    expect(formatBytes(Number.NaN)).toBe('–')
  })

  it('formats a rate', () => {
    expect(formatRate(2048)).toBe('2.0 KiB/s')
  })
})

describe('formatDuration', () => {
  it('gives the two largest units', () => {
    expect(formatDuration(0)).toBe('0 s')
    expect(formatDuration(59.9)).toBe('59 s')
    expect(formatDuration(60)).toBe('1 min')
    expect(formatDuration(200)).toBe('3 min 20 s')
    expect(formatDuration(3600)).toBe('1 h')
    expect(formatDuration(2 * 3600 + 5 * 60 + 9)).toBe('2 h 5 min')
    expect(formatDuration(3 * 86_400 + 4 * 3600 + 59)).toBe('3 d 4 h')
    expect(formatDuration(2 * 86_400)).toBe('2 d')
  })
})

describe('dates', () => {
  it('writes local dates and times with zero padding', () => {
    const at = new Date(2024, 4, 1, 9, 3, 7).getTime()
    expect(formatDateTime(at)).toBe('2024-05-01 09:03')
    expect(formatTime(at)).toBe('09:03:07')
    expect(formatDateTime(Number.NaN)).toBe('–')
  })

  it('says how long ago', () => {
    const now = 1_700_000_000_000
    expect(formatAgo(now - 500, now)).toBe('just now')
    expect(formatAgo(now - 30_000, now)).toBe('30 s ago')
    expect(formatAgo(now - 5 * 60_000, now)).toBe('5 min ago')
    expect(formatAgo(now - 3 * 3_600_000, now)).toBe('3 h ago')
    expect(formatAgo(now - 2 * 86_400_000, now)).toBe('2 d ago')
    // A clock a little ahead of ours is not "in the future".
    expect(formatAgo(now + 5000, now)).toBe('just now')
  })

  it('reads created as ms, a number string or a date string', () => {
    expect(toMillis(1_700_000_000_000)).toBe(1_700_000_000_000)
    expect(toMillis('1700000000000')).toBe(1_700_000_000_000)
    expect(toMillis('2024-05-01T00:00:00.000Z')).toBe(Date.UTC(2024, 4, 1))
  })
})

describe('small helpers', () => {
  it('shortens ids', () => {
    expect(shortId('a'.repeat(64))).toBe(`${'a'.repeat(10)}…`)
    expect(shortId('abc')).toBe('abc')
    expect(shortId('0123456789', 4)).toBe('0123…')
  })

  it('clamps percentages', () => {
    expect(percent(1, 3)).toBe(33)
    expect(percent(5, 0)).toBe(0)
    expect(percent(10, 5)).toBe(100)
    expect(percent(-1, 5)).toBe(0)
  })
})
