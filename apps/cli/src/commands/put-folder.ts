import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs'
import { type FileHandle, lstat, open, readdir, readlink, stat } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { type SnapshotEntry, SnapshotInfoSchema, SnapshotListSchema, SnapshotSchema } from '@cas/api'
import { type ApiClient, ClientError, FileBody } from '@cas/api/client'
import type { CommandContext } from '../context.js'
import { CliError, UsageError } from '../errors.js'
import { EXIT_FAILURE } from '../exit-codes.js'
import { formatBytes } from '../output.js'
import { ProgressBar } from '../progress.js'
import { parseReplication } from './arguments.js'
import { fileProblem, upload } from './put.js'

export interface PutFolderOptions {
  name?: string | false
  replication?: string
  /** Files sent at once (default 16). */
  concurrency?: number
}

/**
 * Files in flight: the node shares fsyncs and commit signatures among the puts it has at once, so
 * 16 store 10-30 % more files per second than 8 here (docs/decisions.md, "`put -r` reads small files
 * whole").
 */
const DEFAULT_CONCURRENCY = 16

/**
 * Files up to this size are read whole and sent from memory in one write (at most this much per file
 * in flight): for the small files a folder is mostly made of, a read stream's 1 MiB buffers and its
 * turns cost the CLI more than the bytes themselves.
 */
const WHOLE_FILE_BYTES = 1024 * 1024

/** A file of the folder as the walk found it. */
interface FoundFile {
  path: string
  abs: string
  info: Stats
}

/**
 * `cas put -r DIR`: stores a folder as a snapshot. Each file is stored under the name
 * `<root>/<path>` (root: --name, else the folder's own name), unless the last snapshot of that root
 * lists it with the same size and modification time: then its object is taken as it is, and
 * nothing is read or sent. Symlinks are recorded with their target, never followed; modes and
 * times are recorded for files and folders. A file that cannot be read is reported, left out of
 * the snapshot, and makes the command fail once the rest is stored.
 */
export async function putFolder(ctx: CommandContext, dir: string, opts: PutFolderOptions): Promise<void> {
  const { out } = ctx
  if (opts.name === false)
    throw new UsageError('a folder is stored under a name: --no-name does not go with -r')
  const top = resolve(dir)
  const topInfo = await stat(top).catch((err: NodeJS.ErrnoException) => {
    throw new CliError('ERR_FILE', `cannot read ${dir}: ${fileProblem(err)}`)
  })
  if (!topInfo.isDirectory()) throw new UsageError(`${dir} is not a folder; store a file without -r`)
  const root = (opts.name ?? basename(top)).replace(/\/+$/, '')
  if (root === '') throw new UsageError('give the folder a name with --name')
  const query = new URLSearchParams()
  if (opts.replication !== undefined) query.set('replication', String(parseReplication(opts.replication)))

  const entries: SnapshotEntry[] = [{ type: 'dir', path: '.', mode: modeOf(topInfo), mtime: msOf(topInfo) }]
  const files: FoundFile[] = []
  const problems: string[] = []
  await walk(top, '', entries, files, problems)
  for (const p of problems) out.warn(p)

  const client = await ctx.client()
  const previous = await lastSnapshot(client, root)
  const toSend = files.filter((f) => {
    const before = previous.get(f.path)
    return !(before && before.size === f.info.size && before.mtime === msOf(f.info))
  })
  const sending = new Set(toSend)
  const sendBytes = toSend.reduce((n, f) => n + f.info.size, 0)
  const bar =
    out.progress && toSend.length > 0
      ? new ProgressBar({ stream: out.stderr, label: `put -r ${root}`, total: sendBytes })
      : undefined
  const sent = new Map<string, { cid: string; size: number }>()
  const unreadable: string[] = []
  const queue = [...toSend]
  let failed = false
  const worker = async () => {
    for (let f = queue.shift(); f && !failed; f = queue.shift()) {
      const got = await sendFile(client, f, `${root}/${f.path}`, query).catch((err: unknown) => {
        if (err instanceof CliError && err.code === 'ERR_FILE') {
          unreadable.push(err.message)
          return undefined
        }
        failed = true
        throw err
      })
      if (got) sent.set(f.path, got)
      bar?.add(f.info.size)
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency ?? DEFAULT_CONCURRENCY }, worker))
  bar?.finish()
  for (const p of unreadable) out.warn(p)

  let unchanged = 0
  for (const f of files) {
    const fresh = sent.get(f.path)
    const cid = fresh?.cid ?? (sending.has(f) ? undefined : previous.get(f.path)?.cid)
    if (cid === undefined) continue
    if (!fresh) unchanged++
    // A file that changed while it was read is recorded with the size that was stored.
    const size = fresh?.size ?? f.info.size
    entries.push({ type: 'file', path: f.path, mode: modeOf(f.info), mtime: msOf(f.info), size, cid })
  }
  const snap = await client.json(SnapshotInfoSchema, 'POST', '/v1/snapshots', {
    body: JSON.stringify({ root, entries }),
  })
  const sentBytes = [...sent.values()].reduce((n, s) => n + s.size, 0)
  const result = {
    ...snap,
    sent: sent.size,
    sentBytes,
    unchanged,
    skipped: problems.length + unreadable.length,
  }
  out.result(result, () => snap.id)
  out.info(
    `snapshot ${snap.id} of ${root}: ${snap.files} files (${formatBytes(snap.bytes)}); ${sent.size} stored (${formatBytes(sentBytes)}), ${unchanged} unchanged`,
  )
  const left = problems.length + unreadable.length
  if (left > 0) {
    throw new CliError(
      'ERR_FILE',
      `${left} entr${left === 1 ? 'y was' : 'ies were'} left out (see above)`,
      EXIT_FAILURE,
    )
  }
}

/** Lists the folder depth first in name order: folders and symlinks into `entries`, files into `files`. */
async function walk(
  top: string,
  rel: string,
  entries: SnapshotEntry[],
  files: FoundFile[],
  problems: string[],
): Promise<void> {
  const here = rel === '' ? top : join(top, rel)
  let names: string[]
  try {
    names = (await readdir(here)).sort()
  } catch (err) {
    problems.push(`cannot read the folder ${rel || '.'}: ${fileProblem(err as NodeJS.ErrnoException)}`)
    return
  }
  for (const name of names) {
    const path = rel === '' ? name : `${rel}/${name}`
    const abs = join(top, path)
    let info: Stats
    try {
      info = await lstat(abs)
    } catch (err) {
      problems.push(`cannot read ${path}: ${fileProblem(err as NodeJS.ErrnoException)}`)
      continue
    }
    if (info.isDirectory()) {
      entries.push({ type: 'dir', path, mode: modeOf(info), mtime: msOf(info) })
      await walk(top, path, entries, files, problems)
    } else if (info.isFile()) {
      files.push({ path, abs, info })
    } else if (info.isSymbolicLink()) {
      try {
        entries.push({ type: 'symlink', path, mtime: msOf(info), target: await readlink(abs) })
      } catch (err) {
        problems.push(`cannot read the symlink ${path}: ${fileProblem(err as NodeJS.ErrnoException)}`)
      }
    } else {
      problems.push(`${path} is not a file, folder or symlink; left out`)
    }
  }
}

/** The files of the last snapshot of `root` whose objects the catalogue still lists, by path. */
async function lastSnapshot(
  client: ApiClient,
  root: string,
): Promise<Map<string, { size: number; mtime: number; cid: string }>> {
  const all = await client.json(SnapshotListSchema, 'GET', '/v1/snapshots')
  const last = all.filter((s) => s.root === root).at(-1)
  const out = new Map<string, { size: number; mtime: number; cid: string }>()
  if (!last) return out
  const snap = await client.json(SnapshotSchema, 'GET', `/v1/snapshots/${encodeURIComponent(last.id)}`)
  for (const e of snap.entries) {
    if (e.type === 'file' && e.listed !== false) out.set(e.path, { size: e.size, mtime: e.mtime, cid: e.cid })
  }
  return out
}

async function sendFile(
  client: ApiClient,
  f: FoundFile,
  name: string,
  base: URLSearchParams,
): Promise<{ cid: string; size: number }> {
  const query = new URLSearchParams(base)
  query.set('name', name)
  const problem = (err: unknown) =>
    new CliError('ERR_FILE', `cannot read ${f.path}: ${fileProblem(err as NodeJS.ErrnoException)}`)
  let body: Uint8Array | undefined
  try {
    body = readSmall(f.abs)
  } catch (err) {
    throw problem(err)
  }
  if (body) {
    const result = await upload(client, body, query)
    return { cid: result.cid, size: result.size }
  }
  let handle: FileHandle
  let size: number
  try {
    handle = await open(f.abs, 'r')
  } catch (err) {
    throw problem(err)
  }
  try {
    size = (await handle.stat()).size
  } catch (err) {
    await handle.close()
    throw problem(err)
  }
  try {
    const result = await upload(client, new FileBody(handle, size), query)
    return { cid: result.cid, size: result.size }
  } catch (err) {
    // A file cut short while it was sent is left for the next put -r, like one that cannot be read.
    if (err instanceof ClientError && err.code === 'ERR_FILE_CHANGED') {
      throw new CliError('ERR_FILE', `cannot read ${f.path}: ${err.message}`)
    }
    throw err
  } finally {
    await handle.close()
  }
}

/**
 * The bytes of a file of at most WHOLE_FILE_BYTES (fewer if it shrank meanwhile; what it grew by is
 * left for the next put -r), read into one buffer by synchronous calls: open, size, read and close
 * of a small file take less than one trip through the thread pool each would cost. Undefined for a
 * larger file, which is sent from an open handle instead.
 */
function readSmall(abs: string): Buffer | undefined {
  const fd = openSync(abs, 'r')
  try {
    const size = fstatSync(fd).size
    if (size > WHOLE_FILE_BYTES) return undefined
    const bytes = Buffer.allocUnsafe(size)
    let done = 0
    while (done < size) {
      const n = readSync(fd, bytes, done, size - done, done)
      if (n === 0) break
      done += n
    }
    return bytes.subarray(0, done)
  } finally {
    closeSync(fd)
  }
}

function modeOf(info: Stats): number {
  return info.mode & 0o7777
}

/** Modification time in whole milliseconds, as a snapshot records it. */
function msOf(info: Stats): number {
  return Math.floor(info.mtimeMs)
}
