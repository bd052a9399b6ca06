// pnpm --filter @cas/crypto bench — throughput of the sealed streams beside raw node:crypto
// over the same data in the same run. Figures are printed, never asserted.
import { createCipheriv, createHmac, randomBytes } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  createDecryptStream,
  createEncryptStream,
  DEFAULT_CHUNK_SIZE,
  decryptIterable,
  encryptIterable,
  seal,
  unseal,
} from '../src/index.js'

const MiB = 1024 * 1024
const TOTAL = Number(process.env.CAS_BENCH_MIB ?? 256) * MiB
const PIECE = MiB
const ROUNDS = 3
const keys = { fileKey: randomBytes(32), macKey: randomBytes(32) }
const pool = Array.from({ length: 16 }, () => randomBytes(PIECE))
const pieces = Array.from({ length: TOTAL / PIECE }, (_, i) => pool[i % pool.length]!)

async function best(fn: () => Promise<void> | void): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now()
    await fn()
    fastest = Math.min(fastest, performance.now() - t)
  }
  return fastest / 1000
}

function rawCtr(step: number): void {
  const cipher = createCipheriv('aes-256-ctr', keys.fileKey, randomBytes(16))
  for (const piece of pieces)
    for (let off = 0; off < piece.length; off += step) cipher.update(piece.subarray(off, off + step))
}

function rawHmac(step: number): void {
  for (const piece of pieces) {
    for (let off = 0; off < piece.length; off += step) {
      createHmac('sha256', keys.macKey)
        .update(piece.subarray(off, off + step))
        .digest()
    }
  }
}

function sink(): Writable {
  return new Writable({
    write(_chunk, _enc, cb) {
      cb()
    },
  })
}

async function drain(source: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _ of source);
}

// the sealed form of the data, cut into 1 MiB pieces as a file or socket would deliver it
const sealedParts: Uint8Array[] = []
for await (const part of encryptIterable(Readable.from(pieces), keys)) sealedParts.push(part)
const sealedWhole = Buffer.concat(sealedParts)
sealedParts.length = 0
const sealedPieces: Buffer[] = []
for (let off = 0; off < sealedWhole.length; off += PIECE)
  sealedPieces.push(sealedWhole.subarray(off, off + PIECE))

const rows: [string, number][] = []
const ctr64 = await best(() => rawCtr(DEFAULT_CHUNK_SIZE))
const hmac64 = await best(() => rawHmac(DEFAULT_CHUNK_SIZE))
const ctr1m = await best(() => rawCtr(PIECE))
const hmac1m = await best(() => rawHmac(PIECE))
rows.push(['raw aes-256-ctr, 64 KiB calls', ctr64], ['raw HMAC-SHA256, one per 64 KiB', hmac64])
rows.push(['raw aes-256-ctr, 1 MiB calls', ctr1m], ['raw HMAC-SHA256, one per 1 MiB', hmac1m])
const combined = ctr64 + hmac64
rows.push(['raw ctr + hmac (64 KiB), combined', combined])
rows.push([
  'createEncryptStream (pipeline)',
  await best(() => pipeline(Readable.from(pieces), createEncryptStream(keys), sink())),
])
rows.push([
  'createDecryptStream (pipeline)',
  await best(() => pipeline(Readable.from(sealedPieces), createDecryptStream(keys), sink())),
])
rows.push(['encryptIterable', await best(() => drain(encryptIterable(Readable.from(pieces), keys)))])
rows.push(['decryptIterable', await best(() => drain(decryptIterable(Readable.from(sealedPieces), keys)))])
const wholeMiB = 64
const whole = Buffer.concat(pieces.slice(0, wholeMiB))
const sealedSmall = seal(whole, keys)
const scale = TOTAL / whole.length
rows.push(['seal (64 MiB buffer), scaled', (await best(() => void seal(whole, keys))) * scale])
rows.push(['unseal (64 MiB buffer), scaled', (await best(() => void unseal(sealedSmall, keys))) * scale])

console.log(
  `@cas/crypto bench: ${TOTAL / MiB} MiB in ${PIECE / MiB} MiB pieces, ${DEFAULT_CHUNK_SIZE / 1024} KiB chunks, best of ${ROUNDS}, node ${process.version}`,
)
console.log(`${'what'.padEnd(40)} ${'MiB/s'.padStart(8)}  vs raw ctr+hmac`)
for (const [name, seconds] of rows) {
  const mibs = TOTAL / MiB / seconds
  console.log(`${name.padEnd(40)} ${mibs.toFixed(0).padStart(8)}  ${(combined / seconds).toFixed(2)}×`)
}
