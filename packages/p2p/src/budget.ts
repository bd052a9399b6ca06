/**
 * A count of something that may be held at once (buffered bytes, streams), shared by whatever
 * takes from it. A peer's streamed request takes a whole stream window from its connection's
 * byte budget and from the node's before its bytes are taken in, and gives it back when the
 * request ends; what does not fit is refused, not queued, so memory stays bounded whatever peers send.
 */
export class Budget {
  #used = 0

  constructor(readonly limit: number) {}

  get used(): number {
    return this.#used
  }

  /** Takes `n` if it fits; false (and nothing taken) if not. */
  tryTake(n: number): boolean {
    if (this.#used + n > this.limit) return false
    this.#used += n
    return true
  }

  give(n: number): void {
    this.#used = Math.max(0, this.#used - n)
  }
}
