import { createHash } from 'node:crypto'
import { constants, existsSync } from 'node:fs'
import { lstat, mkdir, open, opendir, readdir, realpath, rm, rmdir, unlink } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { addAbortSignal, Readable } from 'node:stream'
import { syncDir, TempFile } from './atomic-write.js'
import {
  InvalidKeyError,
  InvalidNamespaceError,
  NotFoundError,
  StoreError,
  StoreIOError,
  toStoreError,
} from './errors.js'
import {
  decodeHeader,
  encodeHeader,
  HEADER_PROBE_BYTES,
  headerLength,
  MAX_KEY_BYTES,
} from './object-header.js'
import { assertRange, ObjectReadStream } from './object-read-stream.js'
import { ObjectWriter } from './object-writer.js'
import { clearPacks, MAX_PACKED_BYTES, type PackedObject, PackLog } from './pack-log.js'
import { casPathTransform, type PathTransform } from './path-transform.js'
import { iterateSource, type Source } from './source.js'
import { sweepTemporaries } from './sweep.js'

export interface StoreOptions {
  /** Folder that holds everything; created if missing. */
  root: string
  /** Key → relative path inside a namespace. Default: casPathTransform. */
  pathTransform?: PathTransform
  /** Namespace used when a call names none. Default: 'self'. */
  defaultNamespace?: string
  /**
   * Objects of at most this many bytes are appended to pack files (`<root>/.packs`) instead of a
   * file each, and writes that arrive together share one fsync. Default 0: every object gets a file.
   */
  packBelow?: number
}

export interface ObjectStat {
  key: string
  namespace: string
  /** Content bytes (the object's header is not counted). */
  size: number
  mtimeMs: number
}

export interface NamespaceOption {
  namespace?: string | undefined
}
export interface WriteOptions extends NamespaceOption {
  signal?: AbortSignal | undefined
}
export interface ReadOptions extends NamespaceOption {
  start?: number | undefined
  /** Inclusive, like fs.createReadStream. */
  end?: number | undefined
}

export const DEFAULT_NAMESPACE = 'self'
export const NAMESPACE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/i
const TMP_DIR = '.tmp'
const PACK_DIR = '.packs'
const CID_KEY_LENGTH = 64
const DIR_MODE = 0o700

/**
 * A content-addressed blob store on the local file system: `<root>/<namespace>/<pathTransform(key)>`.
 * Writes are atomic and durable (temp file → fsync → rename → fsync folder); reads stream with backpressure.
 */
export class Store {
  readonly root: string
  private readonly transform: PathTransform
  private readonly defaultNamespace: string
  private readonly packBelow: number
  private opening: Promise<void> | undefined
  private realRoot = ''
  private packs: PackLog | undefined
  /** Namespaces that may hold object files (their folder existed, or a file went in since). */
  private readonly fileNamespaces = new Map<string, boolean>()
  private opened = false

  constructor(options: StoreOptions) {
    this.root = options.root
    this.transform = options.pathTransform ?? casPathTransform
    this.defaultNamespace = validateNamespace(options.defaultNamespace ?? DEFAULT_NAMESPACE)
    const packBelow = options.packBelow ?? 0
    if (!Number.isSafeInteger(packBelow) || packBelow < 0 || packBelow > MAX_PACKED_BYTES) {
      throw new RangeError(`packBelow must be a whole number of bytes from 0 to ${MAX_PACKED_BYTES}`)
    }
    this.packBelow = packBelow
  }

  /** Creates the folders and sweeps temporaries left by crashed writers. Every method awaits it. */
  open(): Promise<void> {
    this.opening ??= this.doOpen()
    return this.opening
  }

  /** Stores content under the SHA-256 of its bytes (lowercase hex); identical content is stored once. */
  async put(source: Source, opts: WriteOptions = {}): Promise<{ key: string; size: number }> {
    const namespace = this.namespaceOf(opts)
    const writer = await this.writer({ namespace, keyBytes: CID_KEY_LENGTH })
    try {
      const hash = createHash('sha256')
      for await (const chunk of this.iterate(source, opts.signal)) {
        hash.update(chunk)
        await writer.append(chunk)
      }
      const key = hash.digest('hex')
      const size = writer.size
      if (await this.holds(namespace, key, size)) {
        await writer.discard()
        return { key, size }
      }
      await writer.commit(key)
      return { key, size }
    } catch (err) {
      await writer.discard()
      throw toStoreError('put', this.root, this.root, err)
    }
  }

  /** Stores content under a key of the caller's choosing, replacing any object already there atomically. */
  async write(key: string, source: Source, opts: WriteOptions = {}): Promise<{ size: number }> {
    const namespace = this.namespaceOf(opts)
    const path = this.pathOf(namespace, key)
    const writer = await this.writer({ namespace, keyBytes: Buffer.byteLength(key, 'utf8') })
    try {
      for await (const chunk of this.iterate(source, opts.signal)) await writer.append(chunk)
      await writer.commit(key)
      return { size: writer.size }
    } catch (err) {
      await writer.discard()
      throw toStoreError('write', path, this.root, err)
    }
  }

  /**
   * Starts an object whose key is known only once its content is (`commit(key)` names it). Keys
   * must be `keyBytes` UTF-8 bytes long (default 64, a hex SHA-256), so the header can be reserved.
   */
  async writer(opts: NamespaceOption & { keyBytes?: number } = {}): Promise<ObjectWriter> {
    await this.open()
    const namespace = this.namespaceOf(opts)
    const keyBytes = opts.keyBytes ?? CID_KEY_LENGTH
    if (!Number.isInteger(keyBytes) || keyBytes < 1 || keyBytes > MAX_KEY_BYTES) {
      throw new InvalidKeyError(`keyBytes must be from 1 to ${MAX_KEY_BYTES}`)
    }
    const reserve = headerLength('k'.repeat(keyBytes))
    return new ObjectWriter(
      {
        packBelow: this.packBelow,
        createTemp: () => this.createTemp(reserve),
        place: async (key, file) => {
          const path = this.pathOf(namespace, key)
          try {
            await file.writeAt(encodeHeader(key), 0)
            this.fileNamespaces.set(namespace, true)
            await file.commit(path, (dir) => this.assertInside(dir))
            // A packed copy of an earlier write would be read first: the file replaces it.
            await this.packs?.remove(namespace, key)
          } catch (err) {
            throw toStoreError('write', path, this.root, err)
          }
        },
        placeSmall: async (key, bytes) => {
          const path = this.pathOf(namespace, key)
          const packs = this.packs as PackLog
          try {
            await packs.put(namespace, key, bytes)
            // A file of an earlier, larger write under this key goes (the pack's copy is read first).
            // Looked for only where files may be, and without a promise or an error object.
            if (this.mayHoldFiles(namespace) && existsSync(path) && (await this.removeFile(path))) {
              await this.pruneEmptyFolders(namespace, path)
            }
          } catch (err) {
            throw toStoreError('write', join(this.root, PACK_DIR), this.root, err)
          }
        },
      },
      keyBytes,
      this.root,
    )
  }

  /** Streams an object's bytes; a missing object is a NotFoundError emitted as 'error'. */
  read(key: string, opts: ReadOptions = {}): Readable {
    let namespace: string
    try {
      namespace = this.namespaceOf(opts)
      validateKey(key)
    } catch (err) {
      return failedStream(err)
    }
    // The path (a SHA-1 of the key) only when there is no packed copy to read.
    const fileStream = (): Readable => {
      let path: string
      try {
        path = this.pathOf(namespace, key)
      } catch (err) {
        return failedStream(err)
      }
      return new ObjectReadStream({
        path,
        root: this.root,
        key,
        namespace,
        start: opts.start,
        end: opts.end,
        beforeOpen: async () => {
          await this.open()
          await this.assertInside(join(path, '..'))
        },
      })
    }
    const stream = () => {
      const packed = this.packs?.get(namespace, key)
      return this.packs && packed ? packedStream(this.packs, packed, opts.start, opts.end) : fileStream()
    }
    // Once open, the pack index says at once where the object is; before, it is known after opening.
    if (this.opened) return stream()
    const open = () => this.open()
    return Readable.from(
      (async function* () {
        await open()
        yield* stream()
      })(),
      { objectMode: false },
    )
  }

  async stat(key: string, opts: NamespaceOption = {}): Promise<ObjectStat> {
    await this.open()
    const namespace = this.namespaceOf(opts)
    validateKey(key)
    const packed = this.packs?.get(namespace, key)
    if (packed) return { key, namespace, size: packed.size, mtimeMs: packed.mtimeMs }
    const path = this.pathOf(namespace, key)
    try {
      const info = await lstat(path)
      if (!info.isFile()) throw new NotFoundError(key, namespace)
      return { key, namespace, size: info.size - headerLength(key), mtimeMs: info.mtimeMs }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(key, namespace)
      throw toStoreError('stat', path, this.root, err)
    }
  }

  async has(key: string, opts: NamespaceOption = {}): Promise<boolean> {
    try {
      await this.stat(key, opts)
      return true
    } catch (err) {
      if (err instanceof StoreError && err.code === 'ERR_NOT_FOUND') return false
      throw err
    }
  }

  /** Removes an object; false when there was none. Emptied folders are removed too. */
  async delete(key: string, opts: NamespaceOption = {}): Promise<boolean> {
    await this.open()
    const namespace = this.namespaceOf(opts)
    const path = this.pathOf(namespace, key)
    let packed = false
    try {
      packed = (await this.packs?.remove(namespace, key)) ?? false
    } catch (err) {
      throw toStoreError('delete', join(this.root, PACK_DIR), this.root, err)
    }
    if (!(await this.removeFile(path))) return packed
    await this.pruneEmptyFolders(namespace, path)
    return true
  }

  /** Removes an object's file; false when there was none. */
  private async removeFile(path: string): Promise<boolean> {
    try {
      // unlink, not rm: rm looks at the path first (an lstat per small write, which has no file).
      await unlink(path)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw toStoreError('delete', path, this.root, err)
    }
  }

  /** The keys of every object in a namespace, in no particular order. */
  async *list(namespace?: string): AsyncGenerator<string> {
    for await (const entry of this.entries(namespace)) yield entry.key
  }

  /** Every object in a namespace with its size; files that are not objects of this key are skipped. */
  async *entries(namespace?: string): AsyncGenerator<ObjectStat> {
    await this.open()
    const ns = this.namespaceOf({ namespace })
    const base = join(this.root, ns)
    const packed = new Set<string>()
    for (const [key, p] of this.packs?.entries(ns) ?? []) {
      packed.add(key)
      yield { key, namespace: ns, size: p.size, mtimeMs: p.mtimeMs }
    }
    for await (const path of walkFiles(base)) {
      const entry = await this.readEntry(ns, base, path)
      if (entry && !packed.has(entry.key)) yield entry
    }
  }

  async *namespaces(): AsyncGenerator<string> {
    await this.open()
    const seen = new Set<string>()
    for (const entry of await readdir(this.root, { withFileTypes: true })) {
      if (entry.isDirectory() && NAMESPACE_PATTERN.test(entry.name)) seen.add(entry.name)
    }
    for (const ns of this.packs?.namespaces() ?? []) seen.add(ns)
    yield* seen
  }

  async usage(namespace?: string): Promise<{ bytes: number; count: number }> {
    let bytes = 0
    let count = 0
    for await (const entry of this.entries(namespace)) {
      bytes += entry.size
      count += 1
    }
    return { bytes, count }
  }

  /** Pack batches made durable and the records they held (group commit at work); undefined without packs. */
  packStats(): { flushes: number; records: number; deadBytes: number } | undefined {
    return this.packs && { ...this.packs.stats, deadBytes: this.packs.dead }
  }

  /** Closes the pack files; the store opens them again on its next use. */
  async close(): Promise<void> {
    await this.packs?.close()
    this.packs = undefined
    this.opened = false
    this.opening = undefined
  }

  /** Removes every namespace and its objects. */
  async clear(): Promise<void> {
    const all: string[] = []
    for await (const ns of this.namespaces()) all.push(ns)
    for (const ns of all) await rm(join(this.root, ns), { recursive: true, force: true })
    if (this.packs) {
      await this.packs.close()
      await clearPacks(join(this.root, PACK_DIR))
      this.packs = await PackLog.open(join(this.root, PACK_DIR))
    }
    await syncDir(this.root)
  }

  private async doOpen(): Promise<void> {
    try {
      await mkdir(join(this.root, TMP_DIR), { recursive: true, mode: DIR_MODE })
      this.realRoot = await realpath(this.root)
      await sweepTemporaries(join(this.root, TMP_DIR))
      // Packs written earlier are read whatever the setting: their objects stay readable.
      if (this.packBelow > 0 || (await lstat(join(this.root, PACK_DIR)).catch(() => undefined))) {
        this.packs = await PackLog.open(join(this.root, PACK_DIR))
      }
      this.opened = true
    } catch (err) {
      this.opening = undefined
      throw toStoreError('open', this.root, this.root, err)
    }
  }

  private async createTemp(reserve: number): Promise<TempFile> {
    try {
      return await TempFile.create(join(this.root, TMP_DIR), reserve)
    } catch (err) {
      throw toStoreError('create temporary file', join(this.root, TMP_DIR), this.root, err)
    }
  }

  private iterate(source: Source, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
    signal?.throwIfAborted()
    if (signal && source instanceof Readable) addAbortSignal(signal, source)
    const chunks = iterateSource(source)
    if (!signal) return chunks
    return (async function* () {
      for await (const chunk of chunks) {
        signal.throwIfAborted()
        yield chunk
      }
    })()
  }

  /** Whether a namespace may hold object files: a namespace whose folder never existed holds none. */
  private mayHoldFiles(namespace: string): boolean {
    let may = this.fileNamespaces.get(namespace)
    if (may === undefined) {
      may = existsSync(join(this.root, namespace))
      this.fileNamespaces.set(namespace, may)
    }
    return may
  }

  private namespaceOf(opts: NamespaceOption): string {
    return opts.namespace === undefined ? this.defaultNamespace : validateNamespace(opts.namespace)
  }

  /** The object's path; refuses keys and transform results that could leave the namespace folder. */
  private pathOf(namespace: string, key: string): string {
    validateKey(key)
    const rel = this.transform(key)
    const segments = typeof rel === 'string' ? rel.split('/') : []
    if (
      segments.length === 0 ||
      rel.includes('\0') ||
      rel.includes('\\') ||
      segments.some((s) => s === '' || s === '.' || s === '..')
    ) {
      throw new InvalidKeyError(
        `path transform returned an unsafe path for ${JSON.stringify(key).slice(0, 80)}`,
      )
    }
    const base = join(this.root, namespace)
    const path = join(base, ...segments)
    if (!path.startsWith(base + sep)) throw new InvalidKeyError('path escapes its namespace')
    return path
  }

  /** Symlinked folders must not lead outside the root. */
  private async assertInside(dir: string): Promise<void> {
    let real: string
    try {
      real = await realpath(dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    if (real !== this.realRoot && !real.startsWith(this.realRoot + sep)) {
      throw new StoreIOError('access', dir, new Error('folder resolves outside the store root (symlink)'))
    }
  }

  private async holds(namespace: string, key: string, expectedSize: number): Promise<boolean> {
    const packed = this.packs?.get(namespace, key)
    if (packed) return packed.size === expectedSize
    const path = this.pathOf(namespace, key)
    try {
      const info = await lstat(path)
      return info.isFile() && info.size === headerLength(key) + expectedSize
    } catch {
      return false
    }
  }

  private async readEntry(namespace: string, base: string, path: string): Promise<ObjectStat | undefined> {
    let handle: Awaited<ReturnType<typeof open>> | undefined
    try {
      handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
      const info = await handle.stat()
      const probe = Buffer.allocUnsafe(Math.min(info.size, HEADER_PROBE_BYTES))
      const { bytesRead } = await handle.read(probe, 0, probe.length, 0)
      const header = decodeHeader(probe.subarray(0, bytesRead), path)
      if (this.transform(header.key).split('/').join(sep) !== relative(base, path)) return undefined
      return { key: header.key, namespace, size: info.size - header.length, mtimeMs: info.mtimeMs }
    } catch {
      // Vanished since the walk, a stray file or a damaged header: not an object we can name.
      return undefined
    } finally {
      await handle?.close()
    }
  }

  private async pruneEmptyFolders(namespace: string, path: string): Promise<void> {
    const stop = join(this.root, namespace)
    let dir = join(path, '..')
    while (dir.startsWith(stop + sep)) {
      try {
        await rmdir(dir)
      } catch {
        return
      }
      dir = join(dir, '..')
    }
  }
}

export function validateNamespace(namespace: unknown): string {
  if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace)) {
    throw new InvalidNamespaceError(namespace)
  }
  return namespace
}

export function validateKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new InvalidKeyError('not a string')
  if (key.length === 0) throw new InvalidKeyError('empty')
  if (key.includes('\0')) throw new InvalidKeyError('contains NUL')
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES)
    throw new InvalidKeyError(`longer than ${MAX_KEY_BYTES} bytes`)
}

async function* walkFiles(dir: string): AsyncGenerator<string> {
  let handle: Awaited<ReturnType<typeof opendir>>
  try {
    handle = await opendir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  for await (const entry of handle) {
    const path = join(dir, entry.name)
    // Symlinks are neither followed nor listed.
    if (entry.isDirectory()) yield* walkFiles(path)
    else if (entry.isFile()) yield path
  }
}

/** A packed object's bytes `start`..`end` as a stream (one read: packed objects are small). */
function packedStream(packs: PackLog, entry: PackedObject, start?: number, end?: number): Readable {
  return Readable.from(
    (async function* () {
      assertRange(start, end)
      const bytes = await packs.read(entry, start ?? 0, end ?? entry.size - 1)
      if (bytes.byteLength > 0) yield bytes
    })(),
    { objectMode: false },
  )
}

/** A stream that fails with `err` when read: the store's reads report errors as streams do. */
function failedStream(err: unknown): Readable {
  return Readable.from(
    (async function* () {
      yield* []
      throw err
    })(),
  )
}
