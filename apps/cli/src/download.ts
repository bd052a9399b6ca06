import { randomBytes } from 'node:crypto'
import {
  closeSync,
  createWriteStream,
  fchmodSync,
  futimesSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { basename, dirname, join } from 'node:path'
import { Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ApiClient } from '@cas/api/client'
import { CidHasher } from '@cas/crypto'
import { objectPath } from './commands/arguments.js'
import { CliError, IntegrityError } from './errors.js'

/** An object's answer from the node, before its bytes are read. */
export interface Download {
  res: IncomingMessage
  cid: string
  size: number
  /** The name the node says it was stored under, if any. */
  storedName: string | undefined
}

export async function startDownload(client: ApiClient, ref: string): Promise<Download> {
  const res = await client.send('GET', objectPath(ref))
  return {
    res,
    cid: String(res.headers['x-cas-cid'] ?? ''),
    size: Number(res.headers['content-length']),
    storedName: headerName(res.headers['x-cas-name']),
  }
}

/**
 * Passes the bytes on while hashing them; fails at the end unless they are `size` bytes that hash
 * to `cid` (the node checks every chunk; this checks the node).
 */
export function verifier(cid: string, size: number, onBytes?: (n: number) => void): Transform {
  const hash = new CidHasher()
  let received = 0
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      hash.update(chunk)
      received += chunk.length
      onBytes?.(chunk.length)
      done(null, chunk)
    },
    flush(done) {
      done(mismatch(received, size, hash.digest(), cid))
    },
  })
}

/** What is wrong with a download of `received` bytes hashing to `digest`, if it is not `size` bytes of `cid`. */
function mismatch(received: number, size: number, digest: string, cid: string): IntegrityError | undefined {
  if (received !== size) return new IntegrityError(`the node sent ${received} bytes of ${size}`)
  if (digest !== cid)
    return new IntegrityError(`the data read back hashes to ${digest}, not to its cid ${cid}`)
  return undefined
}

/** The temporary name a download is written under beside its final one. */
export function partialName(final: string): string {
  return join(dirname(final), `.${basename(final)}.cas-${randomBytes(4).toString('hex')}.partial`)
}

/**
 * Writes a download to `final` through a temporary file that is renamed only once the bytes check
 * out, so a failed download never leaves a wrong file behind (ERR_INTEGRITY, else ERR_TRANSFER).
 */
export async function saveDownload(
  d: Download,
  final: string,
  opts: { onBytes?: (n: number) => void; tmp?: string } = {},
): Promise<void> {
  const tmp = opts.tmp ?? partialName(final)
  try {
    await pipeline(d.res, verifier(d.cid, d.size, opts.onBytes), createWriteStream(tmp, { flags: 'wx' }))
  } catch (err) {
    await rm(tmp, { force: true })
    throw transferError(err, d.cid)
  }
  await rename(tmp, final)
}

/**
 * Objects up to this size are downloaded whole (`saveWholeDownload`): for the small files a folder is
 * mostly made of, a stream pipeline and six trips through the thread pool cost the CLI more than the
 * bytes themselves.
 */
export const WHOLE_DOWNLOAD_BYTES = 1024 * 1024

/** What a whole download sets on its file before it is renamed into place. */
export interface FileAttributes {
  mode?: number | undefined
  /** Access and modification times, in seconds. */
  times?: [number, number] | undefined
}

/**
 * `saveDownload` for an object of at most WHOLE_DOWNLOAD_BYTES: its bytes are taken into one buffer
 * and checked against the cid (ERR_INTEGRITY, else ERR_TRANSFER as `saveDownload`), then written to
 * a temporary file, given `attrs`, and renamed into place, by synchronous calls: a small file's write
 * is shorter than a trip through the thread pool, and the CLI's loop has nothing else to serve but
 * other downloads.
 */
export async function saveWholeDownload(
  d: Download,
  final: string,
  attrs: FileAttributes = {},
  onBytes?: (n: number) => void,
): Promise<void> {
  let bytes: Buffer
  try {
    bytes = await readWhole(d, onBytes)
  } catch (err) {
    throw transferError(err, d.cid)
  }
  const tmp = partialName(final)
  let fd: number | undefined
  try {
    fd = openSync(tmp, 'wx')
    for (let done = 0; done < bytes.byteLength; ) done += writeSync(fd, bytes, done)
    if (attrs.mode !== undefined) fchmodSync(fd, attrs.mode)
    if (attrs.times) futimesSync(fd, ...attrs.times)
    closeSync(fd)
    fd = undefined
    renameSync(tmp, final)
  } catch (err) {
    if (fd !== undefined) closeSync(fd)
    rmSync(tmp, { force: true })
    throw err
  }
}

/** A download's bytes in one buffer, checked to be `size` bytes that hash to its cid. */
async function readWhole(d: Download, onBytes?: (n: number) => void): Promise<Buffer> {
  if (!Number.isSafeInteger(d.size) || d.size < 0 || d.size > WHOLE_DOWNLOAD_BYTES) {
    d.res.destroy()
    throw new CliError(
      'ERR_TRANSFER',
      `a whole download takes at most ${WHOLE_DOWNLOAD_BYTES} bytes, not ${d.size}`,
    )
  }
  const bytes = Buffer.allocUnsafe(d.size)
  let received = 0
  for await (const chunk of d.res as AsyncIterable<Buffer>) {
    if (received + chunk.byteLength > d.size) {
      d.res.destroy()
      throw new IntegrityError(`the node sent more than the ${d.size} bytes it announced`)
    }
    chunk.copy(bytes, received)
    received += chunk.byteLength
    onBytes?.(chunk.byteLength)
  }
  const wrong = mismatch(
    received,
    d.size,
    new CidHasher().update(bytes.subarray(0, received)).digest(),
    d.cid,
  )
  if (wrong) throw wrong
  return bytes
}

export function transferError(err: unknown, what: string): CliError {
  if (err instanceof CliError) return err
  return new CliError(
    'ERR_TRANSFER',
    `the download of ${what} failed: ${(err as Error).message}`,
    undefined,
    {
      cause: err,
    },
  )
}

function headerName(value: string | string[] | undefined): string | undefined {
  if (typeof value !== 'string') return undefined
  try {
    return decodeURIComponent(value)
  } catch {
    return undefined
  }
}
