import type { Catalogue } from './catalogue.js'
import { QuotaExceededError } from './errors.js'
import type { Quota } from './options.js'

/**
 * Bytes held for other owners, per owner and in total, with reservations
 * taken before a replica streams in so that concurrent stores cannot together
 * pass a quota.
 */
export class HeldReplicas {
  readonly #perOwner = new Map<string, number>()
  #total = 0
  #count = 0

  constructor(private readonly quota: Quota) {}

  load(catalogue: Catalogue): void {
    this.#perOwner.clear()
    this.#total = 0
    this.#count = 0
    for (const { ownerId, rec } of catalogue.held()) this.#add(ownerId, rec.size, 1)
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

  /** Records that an object was added (+1) or removed (-1) after its bytes were reserved or released. */
  countObject(ownerId: string, delta: 1 | -1): void {
    this.#add(ownerId, 0, delta)
  }

  #add(ownerId: string, bytes: number, objects: number): void {
    this.#perOwner.set(ownerId, this.ownerBytes(ownerId) + bytes)
    this.#total += bytes
    this.#count += objects
  }
}
