import { DecodeError } from './errors.js'

/** Deepest nesting of arrays and maps a frame may have. */
export const MAX_NESTING_DEPTH = 64

/**
 * Walks a msgpack body without building anything, before msgpackr sees it.
 * msgpackr recurses once per nesting level and preallocates arrays by their
 * declared count, so a small hostile frame could exhaust the stack or the heap;
 * here, depth is capped, a count can never exceed the bytes left, extension
 * types (RegExp, Set, records…) are refused, map keys must be strings, and the
 * body must be exactly one value.
 */
export function checkMsgpack(buf: Uint8Array, maxDepth = MAX_NESTING_DEPTH): void {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const len = buf.length
  const stack: number[] = []
  const mapStack: boolean[] = []
  let remaining = 1
  let inMap = false
  let pos = 0

  const need = (n: number): void => {
    if (pos + n > len) throw new DecodeError('truncated msgpack body')
  }
  const open = (items: number, isMap: boolean): void => {
    if (items > len - pos) throw new DecodeError(`declared ${items} items but only ${len - pos} bytes remain`)
    if (items === 0) return
    if (stack.length >= maxDepth) throw new DecodeError(`nesting deeper than ${maxDepth}`)
    stack.push(remaining)
    mapStack.push(inMap)
    remaining = items
    inMap = isMap
  }

  for (;;) {
    if (remaining === 0) {
      if (stack.length === 0) break
      remaining = stack.pop()!
      inMap = mapStack.pop()!
      continue
    }
    remaining--
    const isKey = inMap && remaining % 2 === 1
    need(1)
    const b = buf[pos++]!
    if (isKey && !((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb))) {
      throw new DecodeError('map keys must be strings')
    }
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) continue
    if (b <= 0x8f) open((b & 0x0f) * 2, true)
    else if (b <= 0x9f) open(b & 0x0f, false)
    else if (b <= 0xbf) skip(b & 0x1f)
    else {
      switch (b) {
        case 0xc4:
        case 0xd9:
          need(1)
          skip(buf[pos++]!)
          break
        case 0xc5:
        case 0xda:
          need(2)
          pos += 2
          skip(view.getUint16(pos - 2))
          break
        case 0xc6:
        case 0xdb:
          need(4)
          pos += 4
          skip(view.getUint32(pos - 4))
          break
        case 0xcc:
        case 0xd0:
          skip(1)
          break
        case 0xcd:
        case 0xd1:
          skip(2)
          break
        case 0xca:
        case 0xce:
        case 0xd2:
          skip(4)
          break
        case 0xcb:
        case 0xcf:
        case 0xd3:
          skip(8)
          break
        case 0xdc:
          need(2)
          pos += 2
          open(view.getUint16(pos - 2), false)
          break
        case 0xdd:
          need(4)
          pos += 4
          open(view.getUint32(pos - 4), false)
          break
        case 0xde:
          need(2)
          pos += 2
          open(view.getUint16(pos - 2) * 2, true)
          break
        case 0xdf:
          need(4)
          pos += 4
          open(view.getUint32(pos - 4) * 2, true)
          break
        default:
          // 0xc1 is never used; 0xc7–0xc9 and 0xd4–0xd8 are extension types.
          throw new DecodeError(`msgpack type 0x${b.toString(16)} is not allowed`)
      }
    }
  }
  if (pos !== len) throw new DecodeError(`${len - pos} bytes after the msgpack value`)

  function skip(n: number): void {
    need(n)
    pos += n
  }
}
