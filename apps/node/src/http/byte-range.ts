/** An inclusive byte range within an object. */
export interface ByteRange {
  start: number
  end: number
}

/**
 * Parses a `Range` header against an object of `size` bytes (RFC 9110, one range only).
 * Returns undefined when the header is absent or not a bytes range (serve the whole object),
 * or 'unsatisfiable' when it asks for bytes that do not exist (answer 416).
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  if (m[1] === '') {
    // suffix range: the last N bytes
    const n = Number(m[2])
    if (n === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(m[1])
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  if (start >= size || end < start) return 'unsatisfiable'
  return { start, end }
}
