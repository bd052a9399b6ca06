// The floor of a node's small put: the work a put of one chunk cannot do without, with nothing between
// its steps. The same HTTP request as the node's API takes; the same sealing (format 2: a random object
// key, its chunk and manifest keys, the chunk's AES-CTR and SHA-256s, the sealed manifest and its cid,
// the locator and the sealed key); one Ed25519 signature per turn's commits; and the same durable writes
// as a node, in the same order: a turn's bytes appended to an O_DSYNC pack in one write, then their
// catalogue records in one LMDB transaction, flushed before any of them is answered. With holders
// (R = their number), the owner sends each signed replica over TLS 1.3 to every holder while it packs and
// records its own copy, and answers once all are durable; a holder checks each turn's signatures (one
// verification per signature), packs the turn's replicas and records them, then acknowledges.
// Left out: routing, validation, tracking, placement, the catalogue's log, the packs' index, the
// peer protocol's handshake and codec, and the activity feed. The system bench runs these processes
// beside real nodes, so the table shows what share of this machine's rate the nodes' own layers leave.
//
// A child process of the bench: `floor-node.ts owner [holderPort...]` answers POST /v1/objects (one
// chunk at most); `floor-node.ts holder` takes replicas over TLS. Each prints its port and runs until SIGTERM.
import { createHash } from 'node:crypto'
import { constants, mkdtempSync, rmSync } from 'node:fs'
import { open as openFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, createServer as createTlsServer, type TLSSocket } from 'node:tls'
import {
  deriveOwnerSecrets,
  generateOwnerKey,
  locatorOf,
  OBJECT_CHUNK_SIZE,
  sealObjectKey,
  sign,
  ThreadedSealer,
  verify,
} from '@cas/crypto'
import { createNodeIdentity, FrameDecoder } from '@cas/p2p'
import { open as openLmdb } from 'lmdb'

const [role = 'owner', ...holderPorts] = process.argv.slice(2)
const dir = mkdtempSync(join(tmpdir(), 'cas-floor-'))
const pack = await openFile(join(dir, 'pack'), constants.O_RDWR | constants.O_CREAT | constants.O_DSYNC)
let packEnd = 0
const catalogue = openLmdb({ path: join(dir, 'catalogue.lmdb'), maxDbs: 4, compression: false })
const records = catalogue.openDB<Record<string, unknown>, string>({ name: 'records' })
const journal = catalogue.openDB<Record<string, unknown>, number>({ name: 'journal' })
let journalSeq = 0

/**
 * `fn` once per turn over every item given in that turn (a group commit: what arrives together is
 * written together); each caller gets its own item's answer. No timer: a lone item goes at the next turn.
 */
function perTurn<T, R>(fn: (items: T[]) => Promise<R[]>): (item: T) => Promise<R> {
  type Waiting = { item: T; resolve: (r: R) => void; reject: (err: unknown) => void }[]
  let open: Waiting | undefined
  return (item) => {
    if (!open) {
      const turn: Waiting = []
      open = turn
      setImmediate(() => {
        open = undefined
        fn(turn.map((t) => t.item)).then(
          (results) => {
            turn.forEach((t, i) => {
              t.resolve(results[i] as R)
            })
          },
          (err: unknown) => {
            for (const t of turn) t.reject(err)
          },
        )
      })
    }
    const turn = open
    return new Promise((resolve, reject) => {
      turn.push({ item, resolve, reject })
    })
  }
}

/**
 * A turn's objects made durable as a node makes them: their bytes appended to the pack in one write
 * (durable when it returns), then their records and log entries in one transaction, flushed.
 */
async function durable(
  items: { key: string; bytes: Buffer[]; record: Record<string, unknown> }[],
): Promise<void> {
  const all = items.flatMap((i) => i.bytes)
  const at = packEnd
  packEnd += all.reduce((n, b) => n + b.byteLength, 0)
  await pack.writev(all, at)
  await catalogue.transaction(() => {
    for (const { key, record } of items) {
      records.put(key, record)
      journal.put(++journalSeq, { op: 'put', key, at: Date.now() })
    }
  })
  await catalogue.flushed
}

/** Larger than any frame the floor sends: a chunk, its commit and its batch's leaves. */
const MAX_FRAME = 4 * 1024 * 1024

/** The frames on a TLS stream, as the peer protocol frames them (`u32be length | body`, FrameDecoder). */
function onFrames(socket: TLSSocket, onFrame: (frame: Buffer) => void): void {
  const decoder = new FrameDecoder(MAX_FRAME)
  socket.on('data', (data: Buffer) => {
    // Each body is its own allocation: views of it alias nothing else.
    for (const body of decoder.push(data)) onFrame(Buffer.from(body.buffer, body.byteOffset, body.byteLength))
  })
}

function frame(...parts: Buffer[]): Buffer[] {
  return [u32(parts.reduce((n, p) => n + p.byteLength, 0)), ...parts]
}

function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest()
}

/** A sealed put of one chunk, before its signature. */
interface Sealed {
  cid: string
  size: number
  objectKey: Buffer
  commit: Buffer
  ciphertext: Buffer
}

/** A turn's commits signed together: the signature over the SHA-256 of their leaves, and the leaves. */
interface SignedBatch {
  sig: Buffer
  /** SHA-256 of each commit of the turn, in order. */
  leaves: Buffer
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

async function runHolder(): Promise<number> {
  const identity = await createNodeIdentity()
  let ownerKey: Buffer | undefined
  const verified = new Set<string>()
  /**
   * A turn's replicas: each commit found among its batch's leaves, each batch's signature checked once,
   * then the replicas packed and recorded together.
   */
  const store = perTurn(
    async (replicas: { sig: Buffer; leaves: Buffer; commit: Buffer; ciphertext: Buffer }[]) => {
      for (const r of replicas) {
        if (r.leaves.indexOf(sha256(r.commit)) % 32 !== 0)
          throw new Error('a replica its batch does not list')
        const id = r.sig.toString('base64')
        if (verified.has(id)) continue
        if (!ownerKey || !verify(ownerKey, sha256(r.leaves), r.sig)) {
          throw new Error('a replica whose signature does not verify')
        }
        verified.add(id)
      }
      await durable(
        replicas.map((r) => ({
          key: r.commit.subarray(0, 32).toString('hex'),
          bytes: [r.ciphertext, r.commit],
          record: { size: r.ciphertext.byteLength, at: Date.now() },
        })),
      )
      return replicas.map(() => undefined)
    },
  )
  const server = createTlsServer(
    { cert: identity.certPem, key: identity.keyPem, minVersion: 'TLSv1.3' },
    (socket) => {
      socket.setNoDelay(true)
      onFrames(socket, (f) => {
        if (ownerKey === undefined) {
          ownerKey = f
          return
        }
        const id = f.readUInt32BE(0)
        let at = 4
        const part = (): Buffer => {
          const length = f.readUInt32BE(at)
          const bytes = f.subarray(at + 4, at + 4 + length)
          at += 4 + length
          return bytes
        }
        const sig = part()
        const leaves = part()
        const commit = part()
        const ciphertext = part()
        store({ sig, leaves, commit, ciphertext }).then(
          () => socket.write(Buffer.concat(frame(u32(id)))),
          () => socket.destroy(),
        )
      })
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return typeof address === 'object' && address ? address.port : 0
}

/** A replica sent to one holder, answered when it acknowledges. */
async function holderLink(port: number, ownerKey: Buffer) {
  const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1.3' })
  socket.setNoDelay(true)
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve)
    socket.once('error', reject)
  })
  const waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>()
  let closed: Error | undefined
  let next = 0
  onFrames(socket, (f) => {
    const id = f.readUInt32BE(0)
    waiting.get(id)?.resolve()
    waiting.delete(id)
  })
  // A holder that refuses a replica closes its connection: every put waiting on it fails, none hangs.
  socket.once('close', () => {
    closed = new Error(`the floor holder on port ${port} closed its connection`)
    for (const w of waiting.values()) w.reject(closed)
    waiting.clear()
  })
  socket.write(Buffer.concat(frame(ownerKey)))
  return (batch: SignedBatch, commit: Buffer, ciphertext: Buffer): Promise<void> => {
    if (closed) return Promise.reject(closed)
    const id = ++next
    const parts = [batch.sig, batch.leaves, commit, ciphertext].flatMap((p) => [u32(p.byteLength), p])
    socket.write(Buffer.concat(frame(u32(id), ...parts)))
    return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }))
  }
}

/** A body the floor node does not take: empty, or more than one chunk. */
class SizeError extends Error {}

async function runOwner(): Promise<number> {
  const owner = generateOwnerKey()
  const secrets = deriveOwnerSecrets(owner)
  const holders = await Promise.all(
    holderPorts.map((p) => holderLink(Number(p), Buffer.from(owner.publicKeyDer))),
  )
  /**
   * A turn's puts: their commits signed together (the node signs the root of a hash tree of them), each
   * replica sent to every holder, and the owner's own copies made durable meanwhile; each put is done
   * when its copies are durable everywhere.
   */
  const commitTurn = perTurn(async (puts: Sealed[]): Promise<undefined[]> => {
    const leaves = Buffer.concat(puts.map((p) => sha256(p.commit)))
    const batch = { sig: Buffer.from(sign(owner, sha256(leaves))), leaves }
    const sent = Promise.all(puts.flatMap((p) => holders.map((send) => send(batch, p.commit, p.ciphertext))))
    // A holder's failure is this turn's answer once the owner's own copies are written; handled meanwhile.
    sent.catch(() => {})
    await durable(
      puts.map((p) => ({
        key: p.cid,
        bytes: [p.ciphertext, p.commit],
        record: {
          cid: p.cid,
          size: p.size,
          names: [],
          created: Date.now(),
          replication: holders.length,
          holders: holderPorts,
          shared: false,
          objectKey: p.objectKey,
        },
      })),
    )
    await sent
    return puts.map(() => undefined)
  })

  async function put(req: IncomingMessage): Promise<{ cid: string; size: number }> {
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
    await commitTurn({
      cid: object.cid,
      size: object.size,
      objectKey: object.objectKey,
      commit,
      ciphertext: last.ciphertext,
    })
    return { cid: object.cid, size: object.size }
  }

  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/objects') {
      answer(res, 404, {
        error: { code: 'ERR_NOT_FOUND', message: 'the floor node answers POST /v1/objects' },
      })
      return
    }
    put(req).then(
      (p) =>
        answer(res, 201, {
          cid: p.cid,
          size: p.size,
          replicas: [],
          wanted: holders.length,
          underReplicated: false,
          refused: [],
        }),
      (err: unknown) =>
        err instanceof SizeError
          ? answer(res, 413, { error: { code: 'ERR_SIZE', message: err.message } })
          : answer(res, 500, { error: { code: 'ERR_INTERNAL', message: String(err) } }),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return typeof address === 'object' && address ? address.port : 0
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

const port = role === 'holder' ? await runHolder() : await runOwner()
process.stdout.write(`${port}\n`)
process.once('SIGTERM', () => {
  void Promise.all([pack.close(), catalogue.close()]).finally(() => {
    rmSync(dir, { recursive: true, force: true })
    process.exit(0)
  })
})
