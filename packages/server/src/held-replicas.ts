import type { Catalogue } from './catalogue.js'
import { QuotaExceededError } from './errors.js'
import type { Quota } from './options.js'

/**
 * Bytes charged for each replica held beyond its own: its folders, inode and catalogue row. Without
 * it, empty or tiny replicas would cost a holder disk and rows while counting as nothing.
 */
export const HELD_REPLICA_OVERHEAD = 4096

/** What a held replica of `size` bytes counts against the quotas. */
export function chargeOf(size: number): number {
  return size + HELD_REPLICA_OVERHEAD
}

/**
 * Bytes held for other owners, per owner and in total (each replica charged
 * its size plus HELD_REPLICA_OVERHEAD), with reservations taken before a
 * replica streams in so that concurrent stores cannot together pass a quota,
 * and one lock per replica so that concurrent stores and deletes of one
 * replica account for it one after another.
 */
export class HeldReplicas {
  readonly #perOwner = new Map<string, number>()
  readonly #perOwnerCount = new Map<string, number>()
  readonly #locks = new Map<string, Promise<unknown>>()
  #total = 0
  #count = 0

  constructor(private readonly quota: Quota) {}

  load(catalogue: Catalogue): void {
    this.#perOwner.clear()
    this.#perOwnerCount.clear()
    this.#total = 0
    this.#count = 0
    for (const { ownerId, rec } of catalogue.held()) this.#add(ownerId, chargeOf(rec.size), 1)
    // Catalogue heads held for owners count against the same quotas (but are not replicas).
    for (const head of catalogue.heads()) this.#add(head.ownerId, chargeOf(head.box.byteLength), 0)
  }

  usage(): { owners: number; objects: number; bytes: number } {
    return {
      owners: [...this.#perOwner.values()].filter((b) => b > 0).length,
      objects: this.#count,
      bytes: this.#total,
    }
  }

  ownerBytes(ownerId: string): number {
    return this.#perOwner.get(ownerId) ?? 0
  }

  /** Replicas held for one owner and what they are charged. */
  ownerUsage(ownerId: string): { objects: number; bytes: number } {
    return { objects: this.#perOwnerCount.get(ownerId) ?? 0, bytes: this.ownerBytes(ownerId) }
  }

  /** Counts `bytes` against the quotas now, or throws QuotaExceededError; undo with `release`. */
  reserve(ownerId: string, bytes: number): void {
    const owner = this.ownerBytes(ownerId)
    if (this.quota.perOwner !== undefined && owner + bytes > this.quota.perOwner) {
      throw new QuotaExceededError('owner', bytes, this.quota.perOwner)
    }
    if (this.quota.total !== undefined && this.#total + bytes > this.quota.total) {
      throw new QuotaExceededError('total', bytes, this.quota.total)
    }
    this.#add(ownerId, bytes, 0)
  }

  release(ownerId: string, bytes: number): void {
    this.#add(ownerId, -bytes, 0)
  }

  /**
   * A replica was written, its charge reserved while it streamed in: a new one counts as an object;
   * one that replaced `prevSize` gives back the old replica's charge.
   */
  stored(ownerId: string, prevSize: number | undefined): void {
    if (prevSize === undefined) this.#add(ownerId, 0, 1)
    else this.release(ownerId, chargeOf(prevSize))
  }

  /** A held replica of `size` bytes was removed. */
  removed(ownerId: string, size: number): void {
    this.#add(ownerId, -chargeOf(size), -1)
  }

  /**
   * Runs `fn` alone for this replica: what it reads of the replica's record before an await still
   * holds after it, so that two replacements (or a replacement and a delete) never both give back
   * the same old size.
   */
  async exclusive<T>(ownerId: string, locator: string, fn: () => Promise<T>): Promise<T> {
    const key = `${ownerId}/${locator}`
    const before = this.#locks.get(key) ?? Promise.resolve()
    const run = before.then(fn, fn)
    const settled = run.catch(() => {})
    this.#locks.set(key, settled)
    try {
      return await run
    } finally {
      if (this.#locks.get(key) === settled) this.#locks.delete(key)
    }
  }

  #add(ownerId: string, bytes: number, objects: number): void {
    this.#perOwner.set(ownerId, this.ownerBytes(ownerId) + bytes)
    if (objects !== 0) this.#perOwnerCount.set(ownerId, (this.#perOwnerCount.get(ownerId) ?? 0) + objects)
    this.#total += bytes
    this.#count += objects
  }
}
