/** Deepest nesting accepted in an application body. */
export const MAX_BODY_DEPTH = 32

/**
 * Checks that a decoded application body is plain data (null, booleans,
 * finite numbers, strings, byte arrays, arrays, plain objects) and rebuilds
 * it; byte arrays are copied, so that the application never holds a view into
 * a frame. Returns the checked value, or the first problem.
 */
export function copyPlainData(
  value: unknown,
  depth = 0,
): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return { ok: true, value }
  if (typeof value === 'number')
    return Number.isFinite(value) ? { ok: true, value } : { ok: false, problem: 'non-finite number' }
  if (value instanceof Uint8Array) return { ok: true, value: Buffer.from(value) }
  if (typeof value !== 'object') return { ok: false, problem: `${typeof value} is not plain data` }
  if (depth >= MAX_BODY_DEPTH) return { ok: false, problem: `body nested deeper than ${MAX_BODY_DEPTH}` }
  if (Array.isArray(value)) {
    const out: unknown[] = []
    for (const item of value) {
      const r = copyPlainData(item, depth + 1)
      if (!r.ok) return r
      out.push(r.value)
    }
    return { ok: true, value: out }
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null)
    return { ok: false, problem: 'body holds a non-plain object' }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    if (k === '__proto__') return { ok: false, problem: 'body holds a __proto__ key' }
    const r = copyPlainData(v, depth + 1)
    if (!r.ok) return r
    out[k] = r.value
  }
  return { ok: true, value: out }
}
