import * as z from 'zod'

/** A listen or dial address, `host:port`, `[v6]:port` or `:port` (the port on the default host, loopback). */
export interface HostPort {
  host: string
  port: number
}

const ADDRESS = /^(?:\[([0-9a-fA-F:.]+)\]|([a-zA-Z0-9.-]+))?:(\d{1,5})$/

export function parseHostPort(value: string, defaultHost: string): HostPort | undefined {
  const m = ADDRESS.exec(value.trim())
  if (!m) return undefined
  const port = Number(m[3])
  if (port > 65535) return undefined
  return { host: m[1] ?? m[2] ?? defaultHost, port }
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
}

/** `1048576`, `512KiB`, `10 GiB` → bytes (binary units; `GB` is read as GiB too). */
export function parseBytes(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value)
  const unit = m?.[2] ? UNITS[m[2].toLowerCase()] : 1
  if (!m || unit === undefined) return undefined
  const bytes = Math.round(Number(m[1]) * unit)
  return Number.isSafeInteger(bytes) ? bytes : undefined
}

const DURATIONS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `1500`, `30s`, `5m`, `1h` → milliseconds. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(value)
  if (!m) return undefined
  return Math.round(Number(m[1]) * (DURATIONS[(m[2] ?? '').toLowerCase()] ?? 1))
}

export function parseBoolean(value: string | boolean): boolean | undefined {
  if (typeof value === 'boolean') return value
  const v = value.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(v)) return true
  if (['0', 'false', 'no', 'off'].includes(v)) return false
  return undefined
}

/** Zod helpers: each turns a string (flag, env) or a JSON value (file) into the typed value. */
export const zHostPort = (defaultHost: string) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const parsed = parseHostPort(typeof v === 'number' ? `:${v}` : v, defaultHost)
    if (!parsed) ctx.addIssue({ code: 'custom', message: 'not an address' })
    return parsed ?? { host: defaultHost, port: 0 }
  })

export const zList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))

export const zBytes = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = parseBytes(v)
  if (n === undefined) ctx.addIssue({ code: 'custom', message: 'not a size' })
  return n ?? 0
})

export const zDuration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = parseDuration(v)
  if (n === undefined) ctx.addIssue({ code: 'custom', message: 'not a duration' })
  return n ?? 0
})

/** true, false, or 'auto' (the node decides). */
export const zBooleanOrAuto = z.union([z.string(), z.boolean()]).transform((v, ctx): boolean | 'auto' => {
  if (typeof v === 'string' && v.trim().toLowerCase() === 'auto') return 'auto'
  const b = parseBoolean(v)
  if (b === undefined) ctx.addIssue({ code: 'custom', message: 'not auto, true or false' })
  return b ?? false
})

export const zBoolean = z.union([z.string(), z.boolean()]).transform((v, ctx) => {
  const b = parseBoolean(v)
  if (b === undefined) ctx.addIssue({ code: 'custom', message: 'not a boolean' })
  return b ?? false
})
