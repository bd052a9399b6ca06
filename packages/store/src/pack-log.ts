import { createHash } from 'node:crypto'
import { constants } from 'node:fs'
import { type FileHandle, mkdir, open, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { syncDir } from './atomic-write.js'

/**
 * Small objects appended to pack files instead of a file (and eight folders) each, as restic and
 * Haystack pack small blobs. Appends that arrive together are written with one `writev` (group
 * commit) to a pack opened with O_DSYNC, so that the write returns once it is durable: one call to the
 * thread pool per batch rather than a write and an `fdatasync`, each waiting its turn on a busy event
 * loop. Each append resolves only once its batch is durable. A batch starts at the end of the event
 * loop turn its first append arrived in (`setImmediate`, no timer), so the appends of that turn join
 * it. The packs are the record: the index (key → pack, offset, size) is rebuilt by reading their
 * record headers at open, and a record cut short by a crash (never acknowledged) is cut off there.
 */

/** Record: magic, type, namespace length, key length, data length, time (ms), check, then namespace, key, data. */
const MAGIC = 0x43415350 // "CASP"
const HEADER_BYTES = 24
const TYPE_PUT = 1
const TYPE_REMOVE = 2
/** O_DSYNC where the platform has it: a write to a pack returns once the bytes are durable. */
const DSYNC: number | undefined = constants.O_DSYNC
/** A pack is closed for appends past this size and a new one started. */
export const DEFAULT_MAX_PACK_BYTES = 64 * 1024 * 1024
const PACK_NAME = /^pack-(\d{6})\.dat$/
const FILE_MODE = 0o600
/** The largest object a pack takes: its length is a 32-bit field, and a packed object is read whole. */
export const MAX_PACKED_BYTES = 16 * 1024 * 1024

export interface PackedObject {
  pack: number
  /** Offset of the data in the pack. */
  offset: number
  size: number
  mtimeMs: number
}

interface Pending {
  record: Buffer
  apply: (pack: number, offset: number) => void
  resolve: () => void
  reject: (err: unknown) => void
}

export class PackLog {
  readonly #dir: string
  readonly #maxPackBytes: number
  readonly #index = new Map<string, Map<string, PackedObject>>()
  readonly #handles = new Map<number, FileHandle>()
  #current = 0
  #end = 0
  #queue: Pending[] = []
  #flushing = false
  /** Bytes of records no longer in the index (replaced or removed): what a compaction would free. */
  dead = 0
  /** Batches made durable so far (each one durable write), and the records they held. */
  readonly stats = { flushes: 0, records: 0 }

  private constructor(dir: string, maxPackBytes: number) {
    this.#dir = dir
    this.#maxPackBytes = maxPackBytes
  }

  /** Opens the packs in `dir` (made if missing) and rebuilds the index from their records. */
  static async open(dir: string, opts: { maxPackBytes?: number } = {}): Promise<PackLog> {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const log = new PackLog(dir, opts.maxPackBytes ?? DEFAULT_MAX_PACK_BYTES)
    const packs = (await readdir(dir))
      .map((name) => PACK_NAME.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b)
    // Appends go on after the last whole record of the newest pack.
    for (const pack of packs) log.#end = await log.#scan(pack)
    log.#current = packs.at(-1) ?? 0
    if (packs.length === 0) await log.#startPack(1)
    return log
  }

  get(namespace: string, key: string): PackedObject | undefined {
    return this.#index.get(namespace)?.get(key)
  }

  /** Namespaces with packed objects. */
  namespaces(): string[] {
    return [...this.#index].filter(([, keys]) => keys.size > 0).map(([ns]) => ns)
  }

  /** The packed objects of a namespace. */
  *entries(namespace: string): Iterable<[string, PackedObject]> {
    yield* this.#index.get(namespace) ?? []
  }

  /** Appends an object (replacing any packed under its key); resolves once it is durable. */
  put(namespace: string, key: string, data: Uint8Array): Promise<void> {
    const mtimeMs = Date.now()
    const record = encodeRecord(TYPE_PUT, namespace, key, data, mtimeMs)
    return this.#append(record, (pack, offset) => {
      this.#set(namespace, key, {
        pack,
        offset: offset + record.byteLength - data.byteLength,
        size: data.byteLength,
        mtimeMs,
      })
    })
  }

  /** Appends a removal of a packed object; resolves once it is durable. False when none was packed. */
  async remove(namespace: string, key: string): Promise<boolean> {
    if (!this.get(namespace, key)) return false
    const record = encodeRecord(TYPE_REMOVE, namespace, key, new Uint8Array(0), Date.now())
    await this.#append(record, () => {
      this.#delete(namespace, key)
      this.dead += record.byteLength
    })
    return true
  }

  /** The bytes `start`..`end` (inclusive) of a packed object. */
  async read(entry: PackedObject, start = 0, end = entry.size - 1): Promise<Buffer> {
    const length = Math.max(0, Math.min(end, entry.size - 1) - start + 1)
    const out = Buffer.allocUnsafe(length)
    const handle = await this.#handle(entry.pack)
    let done = 0
    while (done < length) {
      const { bytesRead } = await handle.read(out, done, length - done, entry.offset + start + done)
      if (bytesRead === 0) throw new Error(`pack ${entry.pack} ends inside an object`)
      done += bytesRead
    }
    return out
  }

  async close(): Promise<void> {
    await Promise.all([...this.#handles.values()].map((h) => h.close()))
    this.#handles.clear()
  }

  #append(record: Buffer, apply: Pending['apply']): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ record, apply, resolve, reject })
      if (!this.#flushing) {
        this.#flushing = true
        setImmediate(() => void this.#flush())
      }
    })
  }

  /** Writes what is queued as one durable batch, acknowledges it; again while more arrived meanwhile. */
  async #flush(): Promise<void> {
    this.#flushing = true
    while (this.#queue.length > 0) {
      const batch = this.#queue
      this.#queue = []
      try {
        if (this.#end >= this.#maxPackBytes) await this.#startPack(this.#current + 1)
        const handle = await this.#handle(this.#current)
        const at = this.#end
        const records = batch.map((p) => p.record)
        const total = records.reduce((n, r) => n + r.byteLength, 0)
        for (let written = 0; written < total; ) {
          const { bytesWritten } = await handle.writev(sliceFrom(records, written), at + written)
          written += bytesWritten
        }
        // Where the platform has no O_DSYNC (Windows), the batch is made durable the long way.
        if (DSYNC === undefined) await handle.datasync()
        this.stats.flushes++
        this.stats.records += batch.length
        this.#end = at + total
        let offset = at
        for (const p of batch) {
          p.apply(this.#current, offset)
          offset += p.record.byteLength
        }
        for (const p of batch) p.resolve()
      } catch (err) {
        // Nothing of a failed batch may come back at the next open as if it had been acknowledged.
        const handle = this.#handles.get(this.#current)
        await handle?.truncate(this.#end).catch(() => {})
        for (const p of batch) p.reject(err)
      }
    }
    this.#flushing = false
  }

  async #startPack(pack: number): Promise<void> {
    // Read-write, created if missing, each write durable when it returns (O_DSYNC); not O_APPEND, which
    // would ignore the positions of writes.
    const handle = await open(
      join(this.#dir, packName(pack)),
      constants.O_RDWR | constants.O_CREAT | (DSYNC ?? 0),
      FILE_MODE,
    )
    this.#handles.set(pack, handle)
    await syncDir(this.#dir)
    this.#current = pack
    this.#end = (await handle.stat()).size
  }

  async #handle(pack: number): Promise<FileHandle> {
    let handle = this.#handles.get(pack)
    if (!handle) {
      handle = await open(join(this.#dir, packName(pack)), constants.O_RDWR | (DSYNC ?? 0))
      this.#handles.set(pack, handle)
    }
    return handle
  }

  /**
   * Reads a pack's records into the index; a record cut short or failing its check ends the pack
   * there. Resolves with the pack's length after that.
   */
  async #scan(pack: number): Promise<number> {
    const handle = await this.#handle(pack)
    const size = (await handle.stat()).size
    const head = Buffer.allocUnsafe(HEADER_BYTES)
    let at = 0
    while (at + HEADER_BYTES <= size) {
      await readFully(handle, head, at)
      if (head.readUInt32BE(0) !== MAGIC) break
      const type = head.readUInt8(4)
      const nsLength = head.readUInt8(5)
      const keyLength = head.readUInt16BE(6)
      const dataLength = head.readUInt32BE(8)
      const mtimeMs = head.readDoubleBE(12)
      const total = HEADER_BYTES + nsLength + keyLength + dataLength
      if ((type !== TYPE_PUT && type !== TYPE_REMOVE) || at + total > size) break
      const body = Buffer.allocUnsafe(total - HEADER_BYTES)
      await readFully(handle, body, at + HEADER_BYTES)
      if (!checkOf(head, body).equals(head.subarray(20, 24))) break
      const namespace = body.subarray(0, nsLength).toString('utf8')
      const key = body.subarray(nsLength, nsLength + keyLength).toString('utf8')
      if (type === TYPE_PUT) {
        this.#set(namespace, key, { pack, offset: at + total - dataLength, size: dataLength, mtimeMs })
      } else {
        this.#delete(namespace, key)
        this.dead += total
      }
      at += total
    }
    if (at < size) {
      // A batch the crash cut short was never acknowledged: nothing in it is lost to anyone.
      await handle.truncate(at)
      await handle.datasync()
    }
    return at
  }

  #set(namespace: string, key: string, entry: PackedObject): void {
    let keys = this.#index.get(namespace)
    if (!keys) {
      keys = new Map()
      this.#index.set(namespace, keys)
    }
    const prev = keys.get(key)
    if (prev) this.dead += prev.size
    keys.set(key, entry)
  }

  #delete(namespace: string, key: string): void {
    const keys = this.#index.get(namespace)
    const prev = keys?.get(key)
    if (!prev) return
    this.dead += prev.size
    keys?.delete(key)
  }
}

/** Removes every pack in `dir`. */
export async function clearPacks(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}

function packName(pack: number): string {
  return `pack-${String(pack).padStart(6, '0')}.dat`
}

function encodeRecord(
  type: number,
  namespace: string,
  key: string,
  data: Uint8Array,
  mtimeMs: number,
): Buffer {
  const ns = Buffer.from(namespace, 'utf8')
  const k = Buffer.from(key, 'utf8')
  const record = Buffer.allocUnsafe(HEADER_BYTES + ns.byteLength + k.byteLength + data.byteLength)
  record.writeUInt32BE(MAGIC, 0)
  record.writeUInt8(type, 4)
  record.writeUInt8(ns.byteLength, 5)
  record.writeUInt16BE(k.byteLength, 6)
  record.writeUInt32BE(data.byteLength, 8)
  record.writeDoubleBE(mtimeMs, 12)
  ns.copy(record, HEADER_BYTES)
  k.copy(record, HEADER_BYTES + ns.byteLength)
  record.set(data, HEADER_BYTES + ns.byteLength + k.byteLength)
  checkOf(record.subarray(0, HEADER_BYTES), record.subarray(HEADER_BYTES)).copy(record, 20)
  return record
}

/** First 4 bytes of the SHA-256 of the header's fields and the body: finds torn and damaged records. */
function checkOf(header: Buffer, body: Buffer): Buffer {
  return createHash('sha256').update(header.subarray(0, 20)).update(body).digest().subarray(0, 4)
}

async function readFully(handle: FileHandle, into: Buffer, position: number): Promise<void> {
  let done = 0
  while (done < into.byteLength) {
    const { bytesRead } = await handle.read(into, done, into.byteLength - done, position + done)
    if (bytesRead === 0) throw new Error('unexpected end of pack')
    done += bytesRead
  }
}

/** The buffers from byte `from` on (after a short writev). */
function sliceFrom(buffers: Buffer[], from: number): Buffer[] {
  const out: Buffer[] = []
  let skip = from
  for (const b of buffers) {
    if (skip >= b.byteLength) {
      skip -= b.byteLength
      continue
    }
    out.push(skip > 0 ? b.subarray(skip) : b)
    skip = 0
  }
  return out
}
