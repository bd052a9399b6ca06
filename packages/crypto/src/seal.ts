import { ChunkDecryptor } from './chunk-decryptor.js'
import { ChunkEncryptor } from './chunk-encryptor.js'
import type { OpenOptions, SealOptions } from './sealed-format.js'

/** Seals a whole buffer at once, with a fresh random IV. For streams of any size use the stream APIs. */
export function seal(plaintext: Uint8Array, opts: SealOptions): Uint8Array {
  return sealWith(new ChunkEncryptor(opts), plaintext)
}

/** Known-answer tests only: seals with a given IV. Never reuse an IV with the same key. */
export function sealWithIv(plaintext: Uint8Array, opts: SealOptions, iv: Uint8Array): Uint8Array {
  return sealWith(new ChunkEncryptor(opts, iv), plaintext)
}

/** Verifies and opens a whole sealed buffer; an `IntegrityError` if any of it fails. */
export function unseal(sealed: Uint8Array, opts: OpenOptions): Uint8Array {
  const decryptor = new ChunkDecryptor(opts)
  const out: Uint8Array[] = []
  const emit = (piece: Uint8Array) => {
    out.push(piece)
  }
  decryptor.update(sealed, emit)
  decryptor.final(emit)
  return Buffer.concat(out)
}

function sealWith(encryptor: ChunkEncryptor, plaintext: Uint8Array): Uint8Array {
  const out: Uint8Array[] = []
  const emit = (piece: Uint8Array) => {
    out.push(piece)
  }
  encryptor.update(plaintext, emit)
  encryptor.final(emit)
  return Buffer.concat(out)
}
