/**
 * One async iterable read once and handed to several consumers, chunk by
 * chunk: the source advances only when every consumer still attached has
 * taken the current chunk, so the slowest one sets the pace and memory holds
 * one chunk per consumer. A consumer that stops (or never starts) must call
 * `detach`, or the others wait for it.
 */
export class FanOut {
  readonly #source: AsyncIterator<Uint8Array>
  readonly #branches: Branch[]
  #started = false

  constructor(source: AsyncIterable<Uint8Array>, count: number) {
    this.#source = source[Symbol.asyncIterator]()
    this.#branches = Array.from({ length: count }, () => new Branch(() => this.#start()))
  }

  branch(i: number): { data: AsyncIterable<Uint8Array>; detach: () => void } {
    const b = this.#branches[i] as Branch
    return { data: b.iterate(), detach: () => b.detach() }
  }

  #start(): void {
    if (this.#started) return
    this.#started = true
    void this.#pump()
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const live = this.#branches.filter((b) => !b.detached)
        if (live.length === 0) break
        const next = await this.#source.next()
        if (next.done) {
          for (const b of this.#branches) b.end()
          return
        }
        await Promise.all(live.map((b) => b.offer(next.value)))
      }
      await this.#source.return?.()
    } catch (err) {
      for (const b of this.#branches) b.fail(err)
    }
  }
}

class Branch {
  detached = false
  #item: { value: Uint8Array; taken: () => void } | undefined
  #done = false
  #error: unknown
  #wake: (() => void) | undefined

  constructor(private readonly start: () => void) {}

  /** Resolves when this branch's consumer took the chunk, or detached. */
  offer(value: Uint8Array): Promise<void> {
    if (this.detached) return Promise.resolve()
    return new Promise((taken) => {
      this.#item = { value, taken }
      this.#notify()
    })
  }

  end(): void {
    this.#done = true
    this.#notify()
  }

  fail(err: unknown): void {
    this.#error = err ?? new Error('fan-out source failed')
    this.#notify()
  }

  detach(): void {
    if (this.detached) return
    this.detached = true
    this.#item?.taken()
    this.#item = undefined
    this.#notify()
  }

  async *iterate(): AsyncIterable<Uint8Array> {
    this.start()
    try {
      for (;;) {
        if (this.#error !== undefined) throw this.#error
        const item = this.#item
        if (item) {
          this.#item = undefined
          item.taken()
          yield item.value
          continue
        }
        if (this.#done || this.detached) return
        await new Promise<void>((resolve) => {
          this.#wake = resolve
        })
      }
    } finally {
      this.detach()
    }
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}
