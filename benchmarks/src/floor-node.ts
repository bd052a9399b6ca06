// The floor of a lone node's small put: the work a put of one chunk cannot do without, with nothing
// between its steps. The same HTTP request as the node's API takes; the same sealing (format 2: a random
// object key, its chunk and manifest keys, the chunk's AES-CTR and SHA-256s, the sealed manifest and its
// cid, the locator and the sealed key); one Ed25519 signature per turn's batch of commits; and the same
// durable writes as a node, in the same order: the batch's bytes appended to an O_DSYNC pack in one
// write, then its catalogue records in one LMDB transaction, flushed before any put of the batch is
// answered. Left out: routing, validation, tracking, placement, the catalogue's log, the pack's index and
// the activity feed. The system bench runs it beside a lone node, so the table shows what share of this
// machine's rate the node's own layers leave.
//
// A child process of the bench: prints its port, answers POST /v1/objects (one chunk at most) until SIGTERM.
import { constants, mkdtempSync, rmSync } from 'node:fs'
import { open as openFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  deriveOwnerSecrets,
  generateOwnerKey,
  locatorOf,
  OBJECT_CHUNK_SIZE,
  sealObjectKey,
  sign,
  ThreadedSealer,
} from '@cas/crypto'
import { open as openLmdb } from 'lmdb'

const dir = mkdtempSync(join(tmpdir(), 'cas-floor-'))
const owner = generateOwnerKey()
const secrets = deriveOwnerSecrets(owner)
const pack = await openFile(join(dir, 'pack'), constants.O_RDWR | constants.O_CREAT | constants.O_DSYNC)
let packEnd = 0
const catalogue = openLmdb({ path: join(dir, 'catalogue.lmdb'), maxDbs: 4, compression: false })
const objects = catalogue.openDB<Record<string, unknown>, string>({ name: 'objects' })
const journal = catalogue.openDB<Record<string, unknown>, number>({ name: 'journal' })
let journalSeq = 0

interface Put {
  cid: string
  size: number
  objectKey: Buffer
  commit: Buffer
  ciphertext: Buffer
}

/** The puts that end in one turn: one signature, one pack write, one catalogue commit and flush. */
type Batch = { put: Put; done: (err?: unknown) => void }[]
let batch: Batch | undefined

function durable(put: Put): Promise<void> {
  if (!batch) {
    const mine: Batch = []
    batch = mine
    setImmediate(() => {
      batch = undefined
      commitBatch(mine.map((b) => b.put)).then(
        () => {
          for (const b of mine) b.done()
        },
        (err: unknown) => {
          for (const b of mine) b.done(err)
        },
      )
    })
  }
  const open = batch
  return new Promise((resolve, reject) => {
    open.push({ put, done: (err) => (err === undefined ? resolve() : reject(err)) })
  })
}

async function commitBatch(puts: Put[]): Promise<void> {
  sign(owner, Buffer.concat(puts.map((p) => p.commit)))
  const packed = puts.flatMap((p) => [p.ciphertext, p.commit])
  const at = packEnd
  packEnd += packed.reduce((n, b) => n + b.byteLength, 0)
  await pack.writev(packed, at)
  await catalogue.transaction(() => {
    for (const p of puts) {
      const at = Date.now()
      objects.put(p.cid, {
        cid: p.cid,
        size: p.size,
        names: [],
        created: at,
        replication: 2,
        holders: [],
        shared: false,
        objectKey: p.objectKey,
      })
      journal.put(++journalSeq, { op: 'put', cid: p.cid, size: p.size, at })
    }
  })
  await catalogue.flushed
}

/** A body the floor node does not take: empty, or more than one chunk. */
class SizeError extends Error {}

/** Seals one request's body, a chunk at most (a larger one is refused: the floor is of small puts). */
async function put(req: IncomingMessage): Promise<Put> {
  const sealer = new ThreadedSealer(async () => {
    throw new SizeError(`the floor node takes objects of ${OBJECT_CHUNK_SIZE} bytes at most`)
  })
  for await (const piece of req as AsyncIterable<Buffer>) await sealer.update(piece)
  const { last, object } = await sealer.final()
  if (!last) throw new SizeError('the floor node takes objects of 1 byte to one chunk')
  const locator = locatorOf(secrets, object.cid)
  const keyBox = sealObjectKey(secrets, object.objectKey, locator)
  const commit = Buffer.concat([
    Buffer.from(locator, 'hex'),
    ...object.chunks.map((c) => c.hash),
    keyBox,
    object.manifestBox,
  ])
  return {
    cid: object.cid,
    size: object.size,
    objectKey: object.objectKey,
    commit,
    ciphertext: last.ciphertext,
  }
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/v1/objects') {
    answer(res, 404, { error: { code: 'ERR_NOT_FOUND', message: 'the floor node answers POST /v1/objects' } })
    return
  }
  put(req)
    .then(async (p) => {
      await durable(p)
      answer(res, 201, {
        cid: p.cid,
        size: p.size,
        replicas: [],
        wanted: 0,
        underReplicated: false,
        refused: [],
      })
    })
    .catch((err: unknown) =>
      err instanceof SizeError
        ? answer(res, 413, { error: { code: 'ERR_SIZE', message: err.message } })
        : answer(res, 500, { error: { code: 'ERR_INTERNAL', message: String(err) } }),
    )
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`)
})
process.once('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  void Promise.all([pack.close(), catalogue.close()]).finally(() => {
    rmSync(dir, { recursive: true, force: true })
    process.exit(0)
  })
})
