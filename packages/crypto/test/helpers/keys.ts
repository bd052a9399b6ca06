import { createHash } from 'node:crypto'

/** Deterministic bytes for tests: SHA-256 in counter mode over a label. */
export function bytesFrom(label: string, length: number): Buffer {
  const out = Buffer.alloc(length)
  for (let off = 0, i = 0; off < length; off += 32, i++) {
    createHash('sha256').update(`${label}/${i}`).digest().copy(out, off)
  }
  return out
}

export const TEST_KEYS = Object.freeze({
  fileKey: bytesFrom('file-key', 32),
  macKey: bytesFrom('mac-key', 32),
})
