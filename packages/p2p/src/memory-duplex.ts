import { Duplex } from 'node:stream'

/**
 * One end of an in-process byte pipe: what one end writes, the other reads. It behaves as a
 * socket does where the transport relies on it: a write is held until the other end reads
 * (so `write()` returns false and `drain` comes late under a slow reader), `end()` reaches the
 * other end as `end` after the bytes before it, and `destroy()` ends the other end too.
 */
export class MemoryDuplex extends Duplex {
  #other: MemoryDuplex | undefined
  /** Our write that the other end has not made room for yet. */
  #heldWrite: (() => void) | undefined

  private constructor(readonly remoteAddress: string) {
    super({ allowHalfOpen: false })
  }

  /** Two connected ends; `a` reads what `b` writes and the reverse. Each names the other's address. */
  static pair(aRemote: string, bRemote: string): [MemoryDuplex, MemoryDuplex] {
    const a = new MemoryDuplex(aRemote)
    const b = new MemoryDuplex(bRemote)
    a.#other = b
    b.#other = a
    return [a, b]
  }

  override _read(): void {
    const other = this.#other
    if (other === undefined) return
    const held = other.#heldWrite
    other.#heldWrite = undefined
    held?.()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const other = this.#other
    // Bytes sent to a closed end are lost, as on a reset socket; our own end follows shortly.
    if (other === undefined || other.destroyed || other.readableEnded) {
      callback()
      return
    }
    if (other.push(chunk)) callback()
    else this.#heldWrite = callback
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#other?.push(null)
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const other = this.#other
    this.#other = undefined
    this.#heldWrite = undefined
    if (other !== undefined) {
      other.#other = undefined
      // Its writes to us wait for a read that will never come.
      const held = other.#heldWrite
      other.#heldWrite = undefined
      held?.()
      if (!other.destroyed && !other.readableEnded) other.push(null)
    }
    callback(error)
  }
}
