import { createHash, timingSafeEqual } from 'node:crypto'
import { cryptChunk } from './chunk-cipher.js'
import { IntegrityError } from './errors.js'
import { type Manifest, openManifest } from './manifest.js'
import { objectSubkeys } from './object-key.js'

/**
 * Opens one format 2 object: the manifest is checked against the cid once,
 * then each chunk is decrypted and checked against its manifest entry on its
 * own, in any order, so a reader releases verified bytes chunk by chunk.
 */
export class ObjectOpener {
  readonly cid: string
  readonly manifest: Manifest
  readonly #chunkKey: Buffer

  /** Throws IntegrityError ('manifest') when the box does not open with this key or hash to the cid. */
  constructor(objectKey: Uint8Array, manifestBox: Uint8Array, cid: string) {
    const { chunkKey, manifestKey } = objectSubkeys(objectKey)
    this.cid = cid
    this.manifest = openManifest(manifestKey, manifestBox, cid)
    this.#chunkKey = chunkKey
  }

  get size(): number {
    return this.manifest.size
  }

  get chunkCount(): number {
    return this.manifest.chunks.length
  }

  /** The verified plaintext of chunk `index`, or IntegrityError ('chunk'). */
  open(index: number, ciphertext: Uint8Array): Buffer {
    const entry = this.manifest.chunks[index]
    if (!entry) throw new IntegrityError('chunk', `chunk ${index} is not in the manifest of ${this.cid}`)
    if (ciphertext.byteLength !== entry.length) {
      throw new IntegrityError(
        'chunk',
        `chunk ${index} has ${ciphertext.byteLength} bytes, the manifest says ${entry.length}`,
      )
    }
    const plain = cryptChunk(this.#chunkKey, index, ciphertext)
    const hash = createHash('sha256').update(plain).digest()
    if (!timingSafeEqual(hash, entry.hash)) {
      throw new IntegrityError('chunk', `chunk ${index} of ${this.cid} does not match its hash`)
    }
    return plain
  }
}
