import { createCipheriv } from 'node:crypto'

/**
 * Format 2 chunk encryption: AES-256-CTR under the object's chunk key, with
 * chunk `index`'s counter block starting at u64be(index) ‖ u64be(0). A chunk
 * would need 2^64 blocks to reach the next chunk's counters, so no counter
 * block is used twice under one key, and each chunk opens on its own (ranges,
 * several sources). The same call decrypts. Integrity is not here: chunks are
 * checked against the hashes in the manifest and the owner's commit.
 */
export function chunkIv(index: number): Buffer {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`bad chunk index ${index}`)
  const iv = Buffer.alloc(16)
  iv.writeUInt32BE(Math.floor(index / 2 ** 32), 0)
  iv.writeUInt32BE(index >>> 0, 4)
  return iv
}

/** Encrypts (or decrypts: CTR is its own inverse) chunk `index` into a new buffer. */
export function cryptChunk(chunkKey: Uint8Array, index: number, data: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-256-ctr', chunkKey, chunkIv(index))
  const out = cipher.update(data)
  cipher.final()
  return out
}
