import { randomFillSync } from 'node:crypto'

/** Bytes drawn from the system's generator at a time. */
const POOL_BYTES = 4096
/** Larger requests go to the generator directly. */
const MAX_POOLED = 64

const pool = Buffer.alloc(POOL_BYTES)
let used = POOL_BYTES

/**
 * `n` fresh random bytes (keys, IVs, salts) in a new buffer. Small requests are cut from a pool
 * that one `randomFillSync` refills 4 KiB at a time: each call to the generator costs about as
 * much as 1 KiB of its output, and a put takes several keys and IVs. Bytes leave the pool once
 * and are wiped from it as they go.
 */
export function freshRandom(n: number): Buffer {
  if (n > MAX_POOLED) return randomFillSync(Buffer.alloc(n))
  if (used + n > POOL_BYTES) {
    randomFillSync(pool)
    used = 0
  }
  const out = Buffer.from(pool.subarray(used, used + n))
  pool.fill(0, used, used + n)
  used += n
  return out
}
