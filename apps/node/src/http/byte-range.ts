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

/**
 * A pipeline stage that passes on only the bytes of `range` from a stream of the whole object.
 * It returns as soon as the range is complete, which ends the iteration of (and destroys) the
 * source instead of reading the rest of the object.
 */
export function sliceRange({
  start,
  end,
}: ByteRange): (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* slice(source) {
    let offset = 0
    for await (const chunk of source) {
      const from = Math.max(start - offset, 0)
      const to = Math.min(end + 1 - offset, chunk.length)
      offset += chunk.length
      if (to > from) yield from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to)
      if (offset > end) return
    }
  }
}
