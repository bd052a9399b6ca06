import { randomBytes } from 'node:crypto'

/** Codes outstanding at once; the oldest give way beyond it. */
export const MAX_CODES = 1000

/**
 * Random codes that stand for a value once, until they expire: the dashboard's sign-in links and
 * its download links. A code is 24 random bytes (base64url), taken at most once.
 */
export class OneTimeCodes<T> {
  readonly #codes = new Map<string, { value: T; expiresAt: number }>()

  constructor(readonly ttlMs: number) {}

  issue(value: T): { code: string; expiresAt: number } {
    this.#sweep()
    const code = randomBytes(24).toString('base64url')
    const expiresAt = Date.now() + this.ttlMs
    this.#codes.set(code, { value, expiresAt })
    if (this.#codes.size > MAX_CODES) this.#codes.delete(this.#codes.keys().next().value as string)
    return { code, expiresAt }
  }

  /** The code's value if it is known and not expired; it is forgotten either way. */
  take(code: string): T | undefined {
    const entry = this.#codes.get(code)
    this.#codes.delete(code)
    return entry && entry.expiresAt > Date.now() ? entry.value : undefined
  }

  #sweep(): void {
    const now = Date.now()
    for (const [code, e] of this.#codes) if (e.expiresAt <= now) this.#codes.delete(code)
  }
}
