import { Transform, type TransformCallback } from 'node:stream'
import { ChunkDecryptor } from './chunk-decryptor.js'
import { ChunkEncryptor, type Emit } from './chunk-encryptor.js'
import type { OpenOptions, SealOptions } from './sealed-format.js'

/**
 * A Transform from plaintext to the sealed stream, with a fresh random IV.
 * Backpressure is Node's own: the transform is not called again while its output is unread.
 */
export function createEncryptStream(opts: SealOptions): Transform {
  return coreTransform(new ChunkEncryptor(opts))
}

/**
 * A Transform from the sealed stream to plaintext. Each chunk is verified before its plaintext
 * is pushed; any failure destroys the stream with an `IntegrityError` and pushes nothing more.
 */
export function createDecryptStream(opts: OpenOptions): Transform {
  return coreTransform(new ChunkDecryptor(opts))
}

interface Core {
  update(data: Uint8Array, emit: Emit): void
  final(emit: Emit): void
}

function coreTransform(core: Core): Transform {
  const stream: Transform = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        core.update(chunk, emit)
      } catch (err) {
        callback(err as Error)
        return
      }
      callback()
    },
    flush(callback: TransformCallback) {
      try {
        core.final(emit)
      } catch (err) {
        callback(err as Error)
        return
      }
      callback()
    },
  })
  const emit: Emit = (piece) => {
    stream.push(piece)
  }
  return stream
}
