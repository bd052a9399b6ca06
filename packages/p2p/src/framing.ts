import type { Codec } from './codec.js'
import { DecodeError, FrameTooLargeError } from './errors.js'

/** Bytes of the length prefix in front of every frame body. */
export const FRAME_HEADER_SIZE = 4

/** `u32be length | body`, in one freshly allocated buffer the caller may keep. */
export function encodeFrame(codec: Codec, message: unknown, maxFrameSize: number): Buffer {
  return Buffer.concat(encodeFrameParts(codec, message, maxFrameSize))
}

/**
 * The frame as pieces to write in order. A chunk's data is not copied (the
 * fast path puts it after a separately encoded head), so, as with any Node
 * stream, a data buffer must not change after it was handed over.
 */
export function encodeFrameParts(codec: Codec, message: unknown, maxFrameSize: number): Uint8Array[] {
  if (codec.encodeChunkHead && isChunk(message)) {
    return encodeChunkFrame(codec.encodeChunkHead, message, maxFrameSize)
  }
  const body = codec.encode(message)
  if (body.length > maxFrameSize) throw new FrameTooLargeError(body.length, maxFrameSize)
  const frame = Buffer.allocUnsafe(FRAME_HEADER_SIZE + body.length)
  frame.writeUInt32BE(body.length, 0)
  frame.set(body, FRAME_HEADER_SIZE)
  return [frame]
}

interface ChunkLike {
  type: 'chunk'
  id: number
  seq: number
  data: Uint8Array
}

function isChunk(m: unknown): m is ChunkLike {
  return (m as { type?: unknown }).type === 'chunk' && (m as { data?: unknown }).data instanceof Uint8Array
}

function encodeChunkFrame(
  head: NonNullable<Codec['encodeChunkHead']>,
  { id, seq, data }: ChunkLike,
  maxFrameSize: number,
): Uint8Array[] {
  const chunkHead = head(id, seq, data.length)
  const size = chunkHead.length + data.length
  if (size > maxFrameSize) throw new FrameTooLargeError(size, maxFrameSize)
  const prefix = Buffer.allocUnsafe(FRAME_HEADER_SIZE + chunkHead.length)
  prefix.writeUInt32BE(size, 0)
  prefix.set(chunkHead, FRAME_HEADER_SIZE)
  return data.length === 0 ? [prefix] : [prefix, data]
}

/**
 * Cuts a byte stream into frame bodies. The declared length is checked against
 * `maxFrameSize` as soon as the four header bytes are in, so an oversize frame
 * is refused before any of its body is kept.
 */
export class FrameDecoder {
  private parts: Uint8Array[] = []
  private buffered = 0
  private bodyLength = -1

  constructor(private readonly maxFrameSize: number) {}

  /**
   * Bodies completed by this chunk; throws FrameTooLargeError. Each body is
   * its own allocation (copied out of the socket's chunks exactly once), so
   * that values decoded from it never alias another frame or a reused buffer.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const bodies: Uint8Array[] = []
    if (chunk.length === 0) return bodies
    this.parts.push(chunk)
    this.buffered += chunk.length
    for (;;) {
      if (this.bodyLength < 0) {
        if (this.buffered < FRAME_HEADER_SIZE) break
        const header = this.take(FRAME_HEADER_SIZE)
        const length = ((header[0]! << 24) >>> 0) + (header[1]! << 16) + (header[2]! << 8) + header[3]!
        if (length > this.maxFrameSize) {
          this.parts = []
          this.buffered = 0
          throw new FrameTooLargeError(length, this.maxFrameSize)
        }
        this.bodyLength = length
      }
      if (this.buffered < this.bodyLength) break
      bodies.push(this.take(this.bodyLength))
      this.bodyLength = -1
    }
    return bodies
  }

  /** Throws DecodeError when the stream stopped inside a frame. */
  end(): void {
    if (this.buffered > 0 || this.bodyLength >= 0) {
      const declared = this.bodyLength >= 0 ? `${this.bodyLength}-byte body` : 'header'
      throw new DecodeError(`the connection ended inside a frame (${this.buffered} bytes of a ${declared})`)
    }
  }

  private take(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0)
    const first = this.parts[0]!
    this.buffered -= n
    if (first.length >= n) {
      if (first.length === n) this.parts.shift()
      else this.parts[0] = first.subarray(n)
      return n === FRAME_HEADER_SIZE ? first.subarray(0, n) : Buffer.from(first.subarray(0, n))
    }
    const out = Buffer.allocUnsafe(n)
    let at = 0
    while (at < n) {
      const part = this.parts[0]!
      const used = Math.min(part.length, n - at)
      out.set(used === part.length ? part : part.subarray(0, used), at)
      at += used
      if (used === part.length) this.parts.shift()
      else this.parts[0] = part.subarray(used)
    }
    return out
  }
}
