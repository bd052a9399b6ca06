import { InvalidArgumentError } from './errors.js'
import {
  cidOfManifest,
  encodeManifest,
  MAX_OBJECT_CHUNK_SIZE,
  type ManifestChunk,
  OBJECT_CHUNK_SIZE,
  sealManifest,
} from './manifest.js'
import { checkObjectKey, newObjectKey, objectSubkeys } from './object-key.js'
import { sealChunk } from './seal-chunk.js'

/** The staging buffer's first size. */
const MIN_STAGE = 4096

/** One sealed chunk, ready to store or send. */
export interface SealedChunk {
  index: number
  /** AES-256-CTR ciphertext, as long as the plaintext. */
  ciphertext: Buffer
  /** SHA-256 of the ciphertext: what holders check without any key. */
  hash: Buffer
}

/** What the end of a put knows, once every chunk is sealed. */
export interface SealedObject {
  cid: string
  size: number
  objectKey: Buffer
  /** The plaintext manifest (owner-side only). */
  manifest: Buffer
  /** The manifest sealed under the object key. */
  manifestBox: Buffer
  /** Ciphertext length and SHA-256 of each chunk, in order. */
  chunks: { length: number; hash: Buffer }[]
}

export interface ObjectSealerOptions {
  /** A fresh random key by default; give one only for known-answer tests. */
  objectKey?: Uint8Array
  /** Plaintext bytes per chunk, 1 to MAX_OBJECT_CHUNK_SIZE. Default OBJECT_CHUNK_SIZE (1 MiB). */
  chunkSize?: number
}

/**
 * Format 2 in one pass: plaintext in pieces of any size goes in, sealed
 * chunks come out as soon as each is full, and `final` returns the cid, the
 * manifest and the hashes. It reads each byte once: SHA-256 of the plaintext,
 * AES-256-CTR, SHA-256 of the ciphertext, chunk by chunk; at most one chunk
 * of plaintext is staged.
 */
export class ObjectSealer {
  readonly chunkSize: number
  readonly #objectKey: Buffer
  readonly #chunkKey: Buffer
  readonly #manifestKey: Buffer
  readonly #plain: ManifestChunk[] = []
  readonly #cipher: { length: number; hash: Buffer }[] = []
  #stage: Buffer | undefined
  #staged = 0
  #size = 0
  #done = false

  constructor(opts: ObjectSealerOptions = {}) {
    const keys = sealerKeys(opts)
    this.chunkSize = keys.chunkSize
    this.#objectKey = keys.objectKey
    this.#chunkKey = keys.chunkKey
    this.#manifestKey = keys.manifestKey
  }

  /** Plaintext bytes taken so far. */
  get size(): number {
    return this.#size
  }

  /** Takes plaintext; returns the chunks it completed (possibly none). The caller may reuse `data` afterwards. */
  update(data: Uint8Array): SealedChunk[] {
    if (this.#done) throw new Error('ObjectSealer.update after final')
    const out: SealedChunk[] = []
    const cs = this.chunkSize
    this.#size += data.byteLength
    let off = 0
    while (off < data.byteLength) {
      if (this.#staged === 0 && data.byteLength - off >= cs) {
        // aligned: seal straight from the caller's buffer; sealing copies into new ciphertext
        out.push(this.#seal(data.subarray(off, off + cs)))
        off += cs
        continue
      }
      const n = Math.min(cs - this.#staged, data.byteLength - off)
      const stage = this.#room(this.#staged + n)
      stage.set(data.subarray(off, off + n), this.#staged)
      this.#staged += n
      off += n
      if (this.#staged === cs) {
        this.#staged = 0
        out.push(this.#seal(stage))
      }
    }
    return out
  }

  /**
   * The staging buffer, grown to hold `need` bytes: it starts small and doubles up to a chunk, so
   * a small object does not cost a whole chunk of memory (1 MiB per put is what the garbage
   * collector then spends its time on).
   */
  #room(need: number): Buffer {
    const old = this.#stage
    if (old && old.byteLength >= need) return old
    const size = Math.min(this.chunkSize, Math.max(need, 2 * (old?.byteLength ?? 0), MIN_STAGE))
    const stage = Buffer.allocUnsafe(size)
    if (old) old.copy(stage, 0, 0, this.#staged)
    this.#stage = stage
    return stage
  }

  /** Seals what is staged (a short last chunk) and describes the object. */
  final(): { last: SealedChunk | undefined; object: SealedObject } {
    if (this.#done) throw new Error('ObjectSealer.final called twice')
    this.#done = true
    const last = this.#staged > 0 ? this.#seal((this.#stage as Buffer).subarray(0, this.#staged)) : undefined
    return {
      last,
      object: describeObject(this.#objectKey, this.#manifestKey, this.#size, this.#plain, this.#cipher),
    }
  }

  #seal(plain: Uint8Array): SealedChunk {
    const index = this.#plain.length
    const { plainHash, ciphertext, hash } = sealChunk(this.#chunkKey, index, plain)
    this.#plain.push({ length: plain.byteLength, hash: plainHash })
    this.#cipher.push({ length: ciphertext.byteLength, hash })
    return { index, ciphertext, hash }
  }
}

/** The end of a put: the manifest of the plaintext chunks, its cid and its sealed box. */
export function describeObject(
  objectKey: Buffer,
  manifestKey: Buffer,
  size: number,
  plain: ManifestChunk[],
  cipher: { length: number; hash: Buffer }[],
): SealedObject {
  const manifest = encodeManifest(plain)
  return {
    cid: cidOfManifest(manifest),
    size,
    objectKey,
    manifest,
    manifestBox: sealManifest(manifestKey, manifest),
    chunks: cipher,
  }
}

/** The options of a sealer, checked, with the object key and its subkeys. */
export function sealerKeys(opts: ObjectSealerOptions): {
  chunkSize: number
  objectKey: Buffer
  chunkKey: Buffer
  manifestKey: Buffer
} {
  const chunkSize = opts.chunkSize ?? OBJECT_CHUNK_SIZE
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_OBJECT_CHUNK_SIZE) {
    throw new InvalidArgumentError(`chunkSize must be an integer from 1 to ${MAX_OBJECT_CHUNK_SIZE}`)
  }
  if (opts.objectKey) checkObjectKey(opts.objectKey)
  const objectKey = opts.objectKey ? Buffer.from(opts.objectKey) : newObjectKey()
  return { chunkSize, objectKey, ...objectSubkeys(objectKey) }
}
