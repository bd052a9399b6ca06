// The seal thread's entry (run by SealThread as a worker): hashes the plaintext chunks it is sent.
import { createHash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import type { HashReply, HashRequest } from './seal-thread.js'

const port = parentPort
if (!port) throw new Error('seal-worker.js runs as a worker thread (SealThread starts it)')

port.on('message', (req: HashRequest) => {
  const digest = createHash('sha256')
    .update(new Uint8Array(req.plain, 0, req.length))
    .digest()
  const reply: HashReply = { ...req, hash: new Uint8Array(digest) }
  // The buffer goes back as it came, moved, not copied; nothing is allocated here but the hash.
  port.postMessage(reply, [req.plain])
})
