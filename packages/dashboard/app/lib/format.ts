// Human-readable numbers for the dashboard. Sizes are binary (KiB, MiB) as the node counts in
// 1 MiB chunks; dates are local time, numeric, so they read the same in every locale.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const

/** `0 B`, `999 B`, `1.5 KiB`, `12 MiB`: one decimal below 10 of a unit, none above. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–'
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  if (unit === 0) return `${Math.round(value)} B`
  // 9.96 rounds to "10.0": switch to whole numbers at the rounded value.
  const text = value < 9.95 ? value.toFixed(1) : String(Math.round(value))
  return `${text} ${UNITS[unit]}`
}

/** Bytes per second: `1.5 MiB/s`. */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`
}

/** `45 s`, `3 min 20 s`, `2 h 5 min`, `3 d 4 h`: the two largest units. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–'
  const s = Math.floor(seconds)
  if (s < 60) return `${s} s`
  const minutes = Math.floor(s / 60)
  if (minutes < 60) return s % 60 === 0 ? `${minutes} min` : `${minutes} min ${s % 60} s`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`
  const days = Math.floor(hours / 24)
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`
}

const pad = (n: number): string => String(n).padStart(2, '0')

/** `2024-05-01 14:03` in local time. */
export function formatDateTime(ms: number): string {
  const d = new Date(ms)
  if (Number.isNaN(d.getTime())) return '–'
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** `14:03:27` in local time, for the activity log. */
export function formatTime(ms: number): string {
  const d = new Date(ms)
  if (Number.isNaN(d.getTime())) return '–'
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** `just now`, `5 s ago`, `3 min ago`, `2 h ago`, `4 d ago`. */
export function formatAgo(ms: number, now: number): string {
  const seconds = Math.max(0, Math.floor((now - ms) / 1000))
  if (seconds < 2) return 'just now'
  if (seconds < 60) return `${seconds} s ago`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`
  return `${Math.floor(seconds / 86_400)} d ago`
}

/** The first digits of a node id or cid, enough to tell them apart on one screen. */
export function shortId(id: string, length = 10): string {
  return id.length > length ? `${id.slice(0, length)}…` : id
}

/** `created` of an object: ms since 1970, or a date string from older nodes. */
export function toMillis(value: number | string): number {
  if (typeof value === 'number') return value
  const n = Number(value)
  return Number.isFinite(n) ? n : Date.parse(value)
}

/** A whole percentage, clamped to 0–100; 0 when nothing is known of the total. */
export function percent(done: number, total: number): number {
  if (!(total > 0)) return 0
  return Math.min(100, Math.max(0, Math.floor((done / total) * 100)))
}
