/**
 * A seeded random source (mulberry32), so a failing run can be replayed: tests print their seed, and
 * CAS_SEED=<n> repeats it.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The seed of this run: CAS_SEED, or a fresh one. */
export function runSeed(): number {
  const given = Number(process.env.CAS_SEED)
  return Number.isSafeInteger(given) && given > 0 ? given : Math.floor(Math.random() * 2 ** 31) + 1
}

export function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T
}

/** A random moment within the next `ms` milliseconds: when a fault strikes an operation in flight. */
export function randomMoment(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * ms)))
}
