import type { TempFile } from './atomic-write.js'
import { InvalidKeyError, toStoreError } from './errors.js'

/**
 * An object being written whose key is known only at the end (a format whose
 * name is a hash of what was written). Bytes go to a temporary file; `commit`
 * names it and moves it into place atomically, `discard` drops it. Nothing is
 * visible under any key before `commit` has made the bytes durable.
 */
export class ObjectWriter {
  #size = 0
  #settled = false

  /** @internal Made by `Store.writer`. */
  constructor(
    private readonly tmp: TempFile,
    readonly keyBytes: number,
    private readonly place: (key: string, tmp: TempFile) => Promise<void>,
    private readonly root: string,
  ) {}

  /** Content bytes appended so far. */
  get size(): number {
    return this.#size
  }

  /** Appends bytes; a piece of 1 MiB or more is written as is and must not change afterwards. */
  async append(bytes: Uint8Array): Promise<void> {
    if (this.#settled) throw new Error('ObjectWriter.append after commit or discard')
    try {
      await this.tmp.append(bytes)
      this.#size += bytes.byteLength
    } catch (err) {
      throw toStoreError('write', this.tmp.path, this.root, err)
    }
  }

  /** Stores what was appended under `key`, replacing any object there atomically. */
  async commit(key: string): Promise<void> {
    if (this.#settled) throw new Error('ObjectWriter.commit after commit or discard')
    if (Buffer.byteLength(key, 'utf8') !== this.keyBytes) {
      throw new InvalidKeyError(`this writer was opened for ${this.keyBytes}-byte keys`)
    }
    this.#settled = true
    try {
      await this.place(key, this.tmp)
    } catch (err) {
      await this.tmp.discard().catch(() => {})
      throw err
    }
  }

  /** Drops the temporary file; safe to call more than once and after a failed commit. */
  async discard(): Promise<void> {
    this.#settled = true
    await this.tmp.discard().catch(() => {})
  }
}
