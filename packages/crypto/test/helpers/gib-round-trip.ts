// Child process of large-stream.test.ts: pushes `total` random bytes through the encrypt and
// decrypt Transforms and reports hashes, sizes and its own peak RSS as one JSON line.
// Run: node --import tsx test/helpers/gib-round-trip.ts [bytes]
import { createHash, randomFillSync } from 'node:crypto'
import { Readable, Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createDecryptStream, createEncryptStream, sealedSize } from '../../src/index.js'
import { TEST_KEYS } from './keys.js'

const total = Number(process.argv[2] ?? 1024 ** 3)
// an odd piece size, so that plaintext pieces never line up with the 64 KiB chunks
const PIECE = 1_000_003
const plainHash = createHash('sha256')
const openedHash = createHash('sha256')
let sealedBytes = 0
let openedBytes = 0

async function* plaintext(): AsyncGenerator<Buffer> {
  for (let sent = 0; sent < total; sent += PIECE) {
    const piece = randomFillSync(Buffer.allocUnsafe(Math.min(PIECE, total - sent)))
    plainHash.update(piece)
    yield piece
  }
}

const started = performance.now()
await pipeline(
  Readable.from(plaintext()),
  createEncryptStream(TEST_KEYS),
  new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sealedBytes += chunk.length
      cb(null, chunk)
    },
  }),
  createDecryptStream(TEST_KEYS),
  new Writable({
    write(chunk: Buffer, _enc, cb) {
      openedHash.update(chunk)
      openedBytes += chunk.length
      cb()
    },
  }),
)
const report = {
  plainBytes: total,
  openedBytes,
  sealedBytes,
  expectedSealedBytes: sealedSize(total),
  plainSha256: plainHash.digest('hex'),
  openedSha256: openedHash.digest('hex'),
  // resourceUsage reports maxRSS in KiB
  maxRssBytes: process.resourceUsage().maxRSS * 1024,
  seconds: (performance.now() - started) / 1000,
}
process.stdout.write(`${JSON.stringify(report)}\n`)
