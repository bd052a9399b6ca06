// pnpm --filter @cas/crypto bench — throughput of the sealed streams beside raw node:crypto
// over the same data in the same run. Figures are printed, never asserted.
// CAS_BENCH_MIB (default 256) sets the data size, CAS_BENCH_ROUNDS (default 5) the rounds;
// CAS_BENCH_QUICK=1 shrinks both, CAS_BENCH_JSON=<file> also appends one JSON record per figure.
import { createCipheriv, createHmac, randomBytes } from 'node:crypto'
import { appendFile } from 'node:fs/promises'
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
const QUICK = process.env.CAS_BENCH_QUICK === '1'
const TOTAL = Number(process.env.CAS_BENCH_MIB ?? (QUICK ? 64 : 256)) * MiB
const ROUNDS = Number(process.env.CAS_BENCH_ROUNDS ?? (QUICK ? 2 : 5))
const PIECE = MiB
const CHUNK = DEFAULT_CHUNK_SIZE
const keys = { fileKey: randomBytes(32), macKey: randomBytes(32) }
const pool = Array.from({ length: 16 }, () => randomBytes(PIECE))
const pieces = Array.from({ length: TOTAL / PIECE }, (_, i) => pool[i % pool.length]!)

function rawCtr(): void {
  const cipher = createCipheriv('aes-256-ctr', keys.fileKey, randomBytes(16))
  for (const piece of pieces) {
    for (let off = 0; off < piece.length; off += CHUNK) cipher.update(piece.subarray(off, off + CHUNK))
  }
}

function rawHmac(): void {
  for (const piece of pieces) {
    for (let off = 0; off < piece.length; off += CHUNK) {
      createHmac('sha256', keys.macKey)
        .update(piece.subarray(off, off + CHUNK))
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

// the sealed form of the data, cut into 1 MiB pieces as a file or a socket would deliver it
const sealedParts: Uint8Array[] = []
for await (const part of encryptIterable(Readable.from(pieces), keys)) sealedParts.push(part)
const sealedWhole = Buffer.concat(sealedParts)
sealedParts.length = 0
const sealedPieces: Buffer[] = []
for (let off = 0; off < sealedWhole.length; off += PIECE)
  sealedPieces.push(sealedWhole.subarray(off, off + PIECE))
// the buffer helpers are meant for small objects: each 1 MiB piece sealed on its own
const sealedOnes = pool.map((piece) => seal(piece, keys))

function sealEach(): void {
  for (const piece of pieces) seal(piece, keys)
}

function unsealEach(): void {
  for (let i = 0; i < pieces.length; i++) unseal(sealedOnes[i % sealedOnes.length]!, keys)
}

const cases: [string, () => Promise<void> | void][] = [
  ['raw aes-256-ctr (64 KiB updates)', rawCtr],
  ['raw HMAC-SHA256 (one per 64 KiB)', rawHmac],
  ['createEncryptStream', () => pipeline(Readable.from(pieces), createEncryptStream(keys), sink())],
  ['createDecryptStream', () => pipeline(Readable.from(sealedPieces), createDecryptStream(keys), sink())],
  ['encryptIterable', () => drain(encryptIterable(Readable.from(pieces), keys))],
  ['decryptIterable', () => drain(decryptIterable(Readable.from(sealedPieces), keys))],
  ['seal, 1 MiB buffers', () => sealEach()],
  ['unseal, 1 MiB buffers', () => unsealEach()],
]

// rounds interleave the cases, so that a burst of load on the machine hits all of them alike
const fastest = new Map<string, number>()
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of cases) {
    const t = performance.now()
    await fn()
    const seconds = (performance.now() - t) / 1000
    fastest.set(name, Math.min(fastest.get(name) ?? Number.POSITIVE_INFINITY, seconds))
  }
}

const combined = fastest.get(cases[0]![0])! + fastest.get(cases[1]![0])!
const rows: [string, number][] = [...fastest.entries()]
rows.splice(2, 0, ['raw ctr + raw hmac, combined cost', combined])
console.log(
  `@cas/crypto bench: ${TOTAL / MiB} MiB in ${PIECE / MiB} MiB pieces, ${CHUNK / 1024} KiB chunks, ` +
    `best of ${ROUNDS}, node ${process.version}`,
)
console.log(`${'what'.padEnd(36)} ${'MiB/s'.padStart(7)}  ratio to raw ctr+hmac`)
for (const [name, seconds] of rows) {
  const mibs = TOTAL / MiB / seconds
  console.log(`${name.padEnd(36)} ${mibs.toFixed(0).padStart(7)}  ${(combined / seconds).toFixed(2)}`)
}

const out = process.env.CAS_BENCH_JSON
if (out) {
  const baseline = { name: 'raw aes-256-ctr + raw HMAC-SHA256', value: TOTAL / MiB / combined }
  const lines = rows
    .filter(([name]) => !name.startsWith('raw'))
    .map(([name, seconds]) =>
      JSON.stringify({ suite: 'crypto', name, unit: 'MiB/s', value: TOTAL / MiB / seconds, baseline }),
    )
  await appendFile(out, `${lines.join('\n')}\n`)
}
