import { BadRequestError } from '../errors.js'
import { MAX_SIGNED_COMMIT_BYTES } from './commit.js'

/**
 * The data of a `store` request: records of `type u8 | length u32be | payload`,
 * chunk records (type 1, a chunk's ciphertext) then one commit record (type 2,
 * the signed commit), which ends the stream. The commit comes last because a
 * one-pass put knows it only then; the holder hashes chunks as they arrive and
 * checks them against it before anything is kept.
 */
export const RECORD_CHUNK = 1
export const RECORD_COMMIT = 2
const RECORD_HEAD_BYTES = 5

export function recordHead(type: number, length: number): Buffer {
  const head = Buffer.allocUnsafe(RECORD_HEAD_BYTES)
  head[0] = type
  head.writeUInt32BE(length, 1)
  return head
}

export interface StoreRecord {
  type: typeof RECORD_CHUNK | typeof RECORD_COMMIT
  /** Payload bytes. */
  length: number
  /**
   * The payload as views of the pieces it arrived in, not copied: a 1 MiB chunk
   * reassembled into one buffer would cost a fresh allocation (and its page
   * faults) per chunk, while hashing and writing take pieces as they are.
   */
  parts: Buffer[]
}

/**
 * Parses records from a byte stream, refusing a chunk above `maxChunk`, a
 * commit above MAX_SIGNED_COMMIT_BYTES, an unknown type, anything after the
 * commit, and a stream that ends mid-record or without a commit.
 */
export async function* readRecords(
  source: AsyncIterable<Uint8Array>,
  maxChunk: number,
): AsyncGenerator<StoreRecord> {
  const pending: Buffer[] = []
  let buffered = 0
  let head: { type: number; length: number } | undefined
  let sawCommit = false
  // The next n bytes as views of the pending pieces.
  const take = (n: number): Buffer[] => {
    buffered -= n
    const out: Buffer[] = []
    let left = n
    while (left > 0) {
      const p = pending[0] as Buffer
      const k = Math.min(left, p.byteLength)
      out.push(k === p.byteLength ? p : p.subarray(0, k))
      left -= k
      if (k === p.byteLength) pending.shift()
      else pending[0] = p.subarray(k)
    }
    return out
  }
  for await (const piece of source) {
    if (piece.byteLength === 0) continue
    if (sawCommit) throw new BadRequestError('data after the commit record')
    pending.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength))
    buffered += piece.byteLength
    for (;;) {
      if (!head) {
        if (buffered < RECORD_HEAD_BYTES) break
        const parts = take(RECORD_HEAD_BYTES)
        const h = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)
        const type = h[0] as number
        const length = h.readUInt32BE(1)
        if (type === RECORD_CHUNK) {
          if (length < 1 || length > maxChunk) throw new BadRequestError(`a chunk record of ${length} bytes`)
        } else if (type === RECORD_COMMIT) {
          if (length > MAX_SIGNED_COMMIT_BYTES)
            throw new BadRequestError(`a commit record of ${length} bytes`)
        } else {
          throw new BadRequestError(`unknown record type ${type}`)
        }
        head = { type, length }
      }
      if (buffered < head.length) break
      const { type, length } = head as { type: StoreRecord['type']; length: number }
      const parts = take(length)
      head = undefined
      if (type === RECORD_COMMIT) sawCommit = true
      yield { type, length, parts }
      if (sawCommit && buffered > 0) throw new BadRequestError('data after the commit record')
    }
  }
  if (head || buffered > 0) throw new BadRequestError('the store stream ended inside a record')
  if (!sawCommit) throw new BadRequestError('the store stream ended without a commit')
}
