import { createDecipheriv, type Decipher, timingSafeEqual } from 'node:crypto'
import type { Emit } from './chunk-encryptor.js'
import { IntegrityError } from './errors.js'
import {
  checkKeys,
  checkMaxChunkSize,
  chunkTag,
  DEFAULT_MAX_CHUNK_SIZE,
  HEADER_BYTES,
  type OpenOptions,
  parseHeader,
  TAG_BYTES,
  tagKeyOf,
} from './sealed-format.js'

/**
 * The synchronous heart of every decrypting API: sealed bytes in pieces of any size go in,
 * verified plaintext comes out through `emit`. A chunk's plaintext is emitted only after its
 * tag checked out; the first failure throws an `IntegrityError` and the decryptor stays failed.
 */
export class ChunkDecryptor {
  private readonly fileKey: Uint8Array
  private readonly tagKey: Buffer
  private readonly maxChunkSize: number
  private readonly header = Buffer.alloc(HEADER_BYTES)
  private headerFill = 0
  private recordSize = 0
  private decipher: Decipher | undefined
  private stage: Buffer | undefined
  private staged = 0
  private index = 0
  private failure: IntegrityError | undefined
  private finished = false

  constructor(opts: OpenOptions) {
    checkKeys(opts)
    this.maxChunkSize = opts.maxChunkSize ?? DEFAULT_MAX_CHUNK_SIZE
    checkMaxChunkSize(this.maxChunkSize)
    this.fileKey = opts.fileKey
    this.tagKey = tagKeyOf(opts)
  }

  update(data: Uint8Array, emit: Emit): void {
    this.guard()
    let off = 0
    if (this.headerFill < HEADER_BYTES) {
      off = Math.min(HEADER_BYTES - this.headerFill, data.length)
      this.header.set(data.subarray(0, off), this.headerFill)
      this.headerFill += off
      if (this.headerFill < HEADER_BYTES) return
      this.attempt(() => this.start())
    }
    const rs = this.recordSize
    while (off < data.length) {
      // a full-length record is never the final one: the final chunk is always short
      if (this.staged === 0 && data.length - off >= rs) {
        this.open(data.subarray(off, off + rs), false, emit)
        off += rs
        continue
      }
      this.stage ??= Buffer.allocUnsafe(rs)
      const n = Math.min(rs - this.staged, data.length - off)
      this.stage.set(data.subarray(off, off + n), this.staged)
      this.staged += n
      off += n
      if (this.staged === rs) {
        this.staged = 0
        this.open(this.stage, false, emit)
      }
    }
  }

  /** The input has ended: what is staged must be the short final chunk. */
  final(emit: Emit): void {
    this.guard()
    this.finished = true
    if (this.headerFill < HEADER_BYTES) {
      this.fail(
        new IntegrityError('truncated', `the sealed stream ended inside its ${HEADER_BYTES}-byte header`),
      )
    }
    if (this.staged < TAG_BYTES) {
      this.fail(
        new IntegrityError(
          'truncated',
          `the sealed stream ended before its final chunk (chunk ${this.index})`,
        ),
      )
    }
    this.open(this.stage!.subarray(0, this.staged), true, emit)
  }

  private start(): void {
    const { chunkSize, iv } = parseHeader(this.header, this.maxChunkSize)
    this.recordSize = chunkSize + TAG_BYTES
    this.decipher = createDecipheriv('aes-256-ctr', this.fileKey, iv)
  }

  private open(record: Uint8Array, final: boolean, emit: Emit): void {
    const split = record.length - TAG_BYTES
    const ciphertext = record.subarray(0, split)
    const expected = chunkTag(this.tagKey, this.header, this.index, final, ciphertext)
    if (!timingSafeEqual(expected, record.subarray(split))) {
      this.fail(
        new IntegrityError(
          'tag',
          `chunk ${this.index} of the sealed stream failed verification: altered, reordered, cut or opened with the wrong key`,
        ),
      )
    }
    this.index++
    // decipher.update copies into a fresh buffer, so `record` may be the reused stage
    const plaintext = this.decipher!.update(ciphertext)
    if (plaintext.length > 0) emit(plaintext)
  }

  private attempt(step: () => void): void {
    try {
      step()
    } catch (err) {
      if (err instanceof IntegrityError) this.fail(err)
      throw err
    }
  }

  private fail(err: IntegrityError): never {
    this.failure = err
    throw err
  }

  private guard(): void {
    if (this.failure !== undefined) throw this.failure
    if (this.finished) throw new Error('ChunkDecryptor used after final')
  }
}
