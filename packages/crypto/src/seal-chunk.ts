import { createHash } from 'node:crypto'
import { cryptChunk } from './chunk-cipher.js'

/** What sealing one chunk of plaintext gives (format 2). */
export interface ChunkSeal {
  /** SHA-256 of the plaintext: the manifest lists it (the cid is of the manifest). */
  plainHash: Buffer
  /** AES-256-CTR ciphertext, as long as the plaintext. */
  ciphertext: Buffer
  /** SHA-256 of the ciphertext: what holders check without any key. */
  hash: Buffer
}

/** Seals chunk `index` of an object: one pass of SHA-256, AES-256-CTR and SHA-256 over its bytes. */
export function sealChunk(chunkKey: Uint8Array, index: number, plain: Uint8Array): ChunkSeal {
  const plainHash = createHash('sha256').update(plain).digest()
  const ciphertext = cryptChunk(chunkKey, index, plain)
  const hash = createHash('sha256').update(ciphertext).digest()
  return { plainHash, ciphertext, hash }
}
