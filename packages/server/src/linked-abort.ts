/** Why a finished LinkedAbort aborted: nothing is waiting for this answer any more. */
const DONE = new Error('the work this signal guarded is done')

/**
 * An abort that follows its parents: it aborts when any of them does, or when told to. Unlike
 * `AbortSignal.any`, it unhooks itself from its parents on `release` (or its own abort), so a
 * long-lived parent (the server's lifetime) does not collect a dependant per request: on Node 20
 * those stay until the garbage collector clears them, and cost each put more than the put's own
 * key derivations.
 */
export class LinkedAbort {
  readonly #controller = new AbortController()
  readonly #parents: AbortSignal[] = []
  readonly #onParent = (event: Event): void => {
    this.abort((event.target as AbortSignal).reason)
  }

  constructor(parents: readonly (AbortSignal | undefined)[]) {
    for (const parent of parents) {
      if (!parent) continue
      if (parent.aborted) {
        this.abort(parent.reason)
        return
      }
      parent.addEventListener('abort', this.#onParent, { once: true })
      this.#parents.push(parent)
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  abort(reason?: unknown): void {
    this.release()
    this.#controller.abort(reason)
  }

  /**
   * Aborts with one reason made once: stops what still listens (reads in flight) once the work this
   * signal guards is done. An abort without a reason makes a DOMException, stack and all, each time.
   */
  finish(): void {
    this.abort(DONE)
  }

  /** Stops following the parents; call once the work this signal guards has ended. */
  release(): void {
    for (const parent of this.#parents) parent.removeEventListener('abort', this.#onParent)
    this.#parents.length = 0
  }
}
