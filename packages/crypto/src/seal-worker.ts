// The seal thread's entry (run by SealThread as a worker): seals the chunks it is sent, in order.
import { parentPort } from 'node:worker_threads'
import { sealChunk } from './seal-chunk.js'
import type { SealReply, SealRequest } from './seal-thread.js'

const port = parentPort
if (!port) throw new Error('seal-worker.js runs as a worker thread (SealThread starts it)')

port.on('message', (req: SealRequest) => {
  const plain = Buffer.from(req.plain, 0, req.length)
  const sealed = sealChunk(req.chunkKey, req.index, plain)
  const ciphertext = owned(sealed.ciphertext)
  const reply: SealReply = {
    id: req.id,
    plainHash: new Uint8Array(sealed.plainHash),
    hash: new Uint8Array(sealed.hash),
    ciphertext,
    plain: req.plain,
  }
  // Both buffers move back without a copy: the ciphertext, and the plaintext's buffer for its next chunk.
  port.postMessage(reply, [ciphertext, req.plain])
})

/** The bytes in an ArrayBuffer of their own: only such a buffer can move to another thread. */
function owned(bytes: Buffer): ArrayBuffer {
  const whole = bytes.buffer
  if (whole instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === whole.byteLength)
    return whole
  const copy = new ArrayBuffer(bytes.byteLength)
  new Uint8Array(copy).set(bytes)
  return copy
}
