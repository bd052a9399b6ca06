import { createHash, type Hash } from 'node:crypto'
import { cidOfManifest, encodeManifest, type ManifestChunk, OBJECT_CHUNK_SIZE } from './manifest.js'

/**
 * The format 2 cid of some bytes without sealing them: SHA-256 of each
 * 1 MiB chunk, then of the manifest. For checking a cid (or knowing one in
 * advance) where no object is made.
 */
export class CidHasher {
  readonly #chunkSize: number
  readonly #chunks: ManifestChunk[] = []
  #hash: Hash | undefined
  #filled = 0

  constructor(chunkSize = OBJECT_CHUNK_SIZE) {
    this.#chunkSize = chunkSize
  }

  update(data: Uint8Array): this {
    let off = 0
    while (off < data.byteLength) {
      const n = Math.min(this.#chunkSize - this.#filled, data.byteLength - off)
      this.#hash ??= createHash('sha256')
      this.#hash.update(data.subarray(off, off + n))
      this.#filled += n
      off += n
      if (this.#filled === this.#chunkSize) this.#close()
    }
    return this
  }

  /** The cid, as lowercase hex. */
  digest(): string {
    if (this.#filled > 0) this.#close()
    return cidOfManifest(encodeManifest(this.#chunks))
  }

  #close(): void {
    this.#chunks.push({ length: this.#filled, hash: (this.#hash as Hash).digest() })
    this.#hash = undefined
    this.#filled = 0
  }
}

/** The format 2 cid of `bytes`. */
export function cidOf(bytes: Uint8Array): string {
  return new CidHasher().update(bytes).digest()
}
