import { type Cipher, createCipheriv, randomBytes } from 'node:crypto'
import {
  checkChunkSize,
  checkKeys,
  chunkTag,
  DEFAULT_CHUNK_SIZE,
  encodeHeader,
  IV_BYTES,
  MAX_CHUNK_SIZE,
  type SealOptions,
  tagKeyOf,
} from './sealed-format.js'

export type Emit = (piece: Uint8Array) => void

/**
 * The synchronous heart of every encrypting API: plaintext in pieces of any size goes in,
 * the sealed stream comes out through `emit`. Full chunks leave as soon as they are complete,
 * so at most one chunk of plaintext is ever held.
 */
export class ChunkEncryptor {
  readonly chunkSize: number
  private readonly tagKey: Buffer
  private readonly header: Buffer
  private readonly cipher: Cipher
  private stage: Buffer | undefined
  private staged = 0
  private index = 0
  private headerSent = false
  private finished = false

  /** `iv` is for known-answer tests only; real use must take the fresh random default. */
  constructor(opts: SealOptions, iv: Uint8Array = randomBytes(IV_BYTES)) {
    checkKeys(opts)
    this.chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE
    checkChunkSize(this.chunkSize, MAX_CHUNK_SIZE)
    this.tagKey = tagKeyOf(opts)
    this.header = encodeHeader(this.chunkSize, iv)
    this.cipher = createCipheriv('aes-256-ctr', opts.fileKey, iv)
  }

  update(data: Uint8Array, emit: Emit): void {
    if (this.finished) throw new Error('ChunkEncryptor.update after final')
    this.sendHeader(emit)
    const cs = this.chunkSize
    let off = 0
    while (off < data.length) {
      if (this.staged === 0 && data.length - off >= cs) {
        // aligned: encrypt straight from the caller's buffer, no copy
        this.seal(data.subarray(off, off + cs), false, emit)
        off += cs
        continue
      }
      this.stage ??= Buffer.allocUnsafe(cs)
      const n = Math.min(cs - this.staged, data.length - off)
      this.stage.set(data.subarray(off, off + n), this.staged)
      this.staged += n
      off += n
      if (this.staged === cs) {
        this.staged = 0
        this.seal(this.stage, false, emit)
      }
    }
  }

  /** Seals the short final chunk (empty if the plaintext filled its last chunk exactly). */
  final(emit: Emit): void {
    if (this.finished) throw new Error('ChunkEncryptor.final called twice')
    this.sendHeader(emit)
    this.seal(this.stage === undefined ? Buffer.alloc(0) : this.stage.subarray(0, this.staged), true, emit)
    this.cipher.final()
    this.finished = true
  }

  private sendHeader(emit: Emit): void {
    if (this.headerSent) return
    this.headerSent = true
    // a copy: the header stays in use for every tag, whatever the consumer does with its bytes
    emit(Buffer.from(this.header))
  }

  private seal(plaintext: Uint8Array, final: boolean, emit: Emit): void {
    // cipher.update returns a fresh buffer, so the stage can be refilled at once
    const ciphertext = this.cipher.update(plaintext)
    const tag = chunkTag(this.tagKey, this.header, this.index, final, ciphertext)
    this.index++
    if (ciphertext.length > 0) emit(ciphertext)
    emit(tag)
  }
}
