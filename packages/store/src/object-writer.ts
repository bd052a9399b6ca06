import type { TempFile } from './atomic-write.js'
import { InvalidKeyError, toStoreError } from './errors.js'

/** How an ObjectWriter's bytes are placed; made by `Store.writer`. */
export interface ObjectPlacement {
  /** Objects of at most this many bytes are kept in memory and packed at commit; 0: none are. */
  packBelow: number
  createTemp(): Promise<TempFile>
  /** Names a temporary file and moves it into place. */
  place(key: string, tmp: TempFile): Promise<void>
  /** Stores a small object whole (appended to a pack). */
  placeSmall(key: string, bytes: Buffer): Promise<void>
}

/**
 * An object being written whose key is known only at the end (a format whose
 * name is a hash of what was written). Bytes go to a temporary file (a small
 * object's stay in memory until it is packed); `commit` names it and moves it
 * into place atomically, `discard` drops it. Nothing is visible under any key
 * before `commit` has made the bytes durable.
 */
export class ObjectWriter {
  #size = 0
  #settled = false
  #tmp: TempFile | undefined
  #small: Buffer[] = []

  /** @internal Made by `Store.writer`. */
  constructor(
    private readonly placement: ObjectPlacement,
    readonly keyBytes: number,
    private readonly root: string,
  ) {}

  /** Content bytes appended so far. */
  get size(): number {
    return this.#size
  }

  /** Appends bytes; a piece of 1 MiB or more is written as is and must not change afterwards. */
  async append(bytes: Uint8Array): Promise<void> {
    if (this.#settled) throw new Error('ObjectWriter.append after commit or discard')
    if (!this.#tmp && this.#size + bytes.byteLength <= this.placement.packBelow) {
      // Copied: the caller may reuse its buffer once this resolves.
      this.#small.push(Buffer.from(bytes))
      this.#size += bytes.byteLength
      return
    }
    const tmp = await this.#file()
    try {
      await tmp.append(bytes)
      this.#size += bytes.byteLength
    } catch (err) {
      throw toStoreError('write', tmp.path, this.root, err)
    }
  }

  /** Stores what was appended under `key`, replacing any object there atomically. */
  async commit(key: string): Promise<void> {
    if (this.#settled) throw new Error('ObjectWriter.commit after commit or discard')
    if (Buffer.byteLength(key, 'utf8') !== this.keyBytes) {
      throw new InvalidKeyError(`this writer was opened for ${this.keyBytes}-byte keys`)
    }
    if (!this.#tmp && this.placement.packBelow > 0) {
      this.#settled = true
      await this.placement.placeSmall(key, Buffer.concat(this.#small))
      this.#small = []
      return
    }
    const tmp = await this.#file()
    this.#settled = true
    try {
      await this.placement.place(key, tmp)
    } catch (err) {
      await tmp.discard().catch(() => {})
      throw err
    }
  }

  /** Drops the temporary file; safe to call more than once and after a failed commit. */
  async discard(): Promise<void> {
    this.#settled = true
    this.#small = []
    await this.#tmp?.discard().catch(() => {})
  }

  /** The temporary file, made on first need with what was kept in memory so far. */
  async #file(): Promise<TempFile> {
    if (this.#tmp) return this.#tmp
    const tmp = await this.placement.createTemp()
    if (this.#settled) {
      // Discarded while the file was being made: it must not outlive the writer.
      await tmp.discard().catch(() => {})
      throw new Error('ObjectWriter discarded while it was writing')
    }
    this.#tmp = tmp
    try {
      for (const piece of this.#small) await tmp.append(piece)
    } catch (err) {
      throw toStoreError('write', tmp.path, this.root, err)
    }
    this.#small = []
    return tmp
  }
}
