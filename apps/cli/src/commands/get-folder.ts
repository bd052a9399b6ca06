import { chmod, lstat, lutimes, mkdir, rm, symlink, utimes } from 'node:fs/promises'
import { isAbsolute, join, normalize, resolve, sep } from 'node:path'
import { ObjectListSchema, type SnapshotEntry, SnapshotListSchema, SnapshotSchema } from '@cas/api'
import type { ApiClient } from '@cas/api/client'
import type { z } from 'zod'
import type { CommandContext } from '../context.js'
import { saveDownload, saveWholeDownload, startDownload, WHOLE_DOWNLOAD_BYTES } from '../download.js'
import { CliError, UsageError } from '../errors.js'
import { EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_USAGE } from '../exit-codes.js'
import { formatBytes } from '../output.js'
import { ProgressBar } from '../progress.js'
import { isUnder } from './ls.js'

export interface GetFolderOptions {
  output?: string
  /** Keep a file that is already there instead of replacing it (`cas restore -o`). */
  keepExisting?: boolean
  /** Files fetched at once (default 8). */
  concurrency?: number
}

const DEFAULT_CONCURRENCY = 8

/** What a folder restore writes, each path relative to the output folder. */
interface Plan {
  files: { rel: string; cid: string; size: number; mode?: number; mtime?: number }[]
  dirs: { rel: string; mode: number; mtime: number }[]
  symlinks: { rel: string; target: string; mtime: number }[]
  /** Paths left out because they would land outside the folder. */
  unsafe: string[]
}

/**
 * `cas get -r SNAPSHOT|PATH -o DIR`: writes a folder back. A snapshot (its id, or the start of one)
 * comes back as it was put: files, folders (empty ones too), symlinks, modes and times. A path
 * writes the objects named under it now (`/` for every name), with the modes and times of the
 * latest snapshot that holds them unchanged. Every file is checked against its cid and written
 * through a temporary file; one that fails is reported and the rest are still written.
 */
export async function getFolder(ctx: CommandContext, ref: string, opts: GetFolderOptions): Promise<void> {
  const { out } = ctx
  if (opts.output === undefined || opts.output === '-')
    throw new UsageError('-r writes a folder: give it with -o DIR')
  const client = await ctx.client()
  const snapshots = await client.json(SnapshotListSchema, 'GET', '/v1/snapshots')
  const bySnapshot = snapshots.filter((s) => s.id === ref || (ref.length >= 4 && s.id.startsWith(ref)))
  const folder = ref === '/' || ref === '.' ? '' : ref.replace(/\/+$/, '')
  const objects = await client.json(ObjectListSchema, 'GET', '/v1/objects')
  const named = objects.filter((o) => (folder === '' && !o.shared) || o.names.some((n) => isUnder(n, folder)))
  if (bySnapshot.length > 1 || (bySnapshot.length === 1 && named.length > 0)) {
    const ids = bySnapshot.map((s) => `snapshot ${s.id} of ${s.root}`)
    throw new CliError(
      'ERR_AMBIGUOUS',
      `${JSON.stringify(ref)} names ${[...ids, ...(named.length > 0 ? [`the path ${ref}`] : [])].join(', ')}; use more of the snapshot id`,
      EXIT_USAGE,
    )
  }
  let plan: Plan
  let from: string
  const only = bySnapshot[0]
  if (only) {
    const snap = await client.json(SnapshotSchema, 'GET', `/v1/snapshots/${encodeURIComponent(only.id)}`)
    plan = planSnapshot(snap.entries)
    from = `snapshot ${snap.id} of ${snap.root}`
  } else if (named.length > 0) {
    plan = planPath(named, folder, await metadataFor(client, snapshots, folder, (m) => out.warn(m)))
    from = folder === '' ? 'every name' : folder
  } else {
    throw new CliError(
      'ERR_NOT_FOUND',
      `no snapshot and no name under ${JSON.stringify(ref)}`,
      EXIT_NOT_FOUND,
    )
  }
  for (const p of plan.unsafe) out.warn(`${p} would land outside the folder; left out`)

  const top = resolve(opts.output)
  const createdTop = (await lstat(top).catch(() => undefined)) === undefined
  await mkdir(top, { recursive: true })
  const made = new Set<string>([''])
  const failures: string[] = []
  const fail = (rel: string, err: unknown) => failures.push(`${rel}: ${(err as Error).message}`)
  for (const d of plan.dirs) await makeDir(top, d.rel, made).catch((err: unknown) => fail(d.rel || '.', err))

  const total = plan.files.reduce((n, f) => n + f.size, 0)
  const bar = out.progress
    ? new ProgressBar({ stream: out.stderr, label: `get -r ${ref}`, total })
    : undefined
  let written = 0
  let bytes = 0
  let kept = 0
  const queue = [...plan.files]
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const file = join(top, f.rel)
      try {
        await makeDir(top, parentOf(f.rel), made)
        if (opts.keepExisting && (await lstat(file).catch(() => undefined))) {
          kept++
          continue
        }
        const d = await startDownload(client, f.cid)
        const times = f.mtime === undefined ? undefined : timesOf(f.mtime)
        if (d.size <= WHOLE_DOWNLOAD_BYTES) {
          await saveWholeDownload(d, file, { mode: f.mode, times }, (n) => bar?.add(n))
        } else {
          await saveDownload(d, file, { onBytes: (n) => bar?.add(n) })
          if (f.mode !== undefined) await chmod(file, f.mode)
          if (times) await utimes(file, ...times)
        }
        written++
        bytes += f.size
      } catch (err) {
        fail(f.rel, err)
      }
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency ?? DEFAULT_CONCURRENCY }, worker))
  bar?.finish()
  let links = 0
  for (const s of plan.symlinks) {
    const path = join(top, s.rel)
    try {
      await makeDir(top, parentOf(s.rel), made)
      if (await lstat(path).catch(() => undefined)) {
        if (opts.keepExisting) continue
        await rm(path, { recursive: false })
      }
      await symlink(s.target, path)
      await lutimes(path, ...timesOf(s.mtime))
      links++
    } catch (err) {
      fail(s.rel, err)
    }
  }
  // Last, deepest first: writing into a folder changes its time, and a read-only mode would stop the writes.
  for (const d of [...plan.dirs].sort((a, b) => depth(b.rel) - depth(a.rel))) {
    if (d.rel === '' && !createdTop) continue
    const path = join(top, d.rel)
    await chmod(path, d.mode).catch(() => undefined)
    await utimes(path, ...timesOf(d.mtime)).catch(() => undefined)
  }
  for (const f of failures) out.warn(f)
  const result = {
    from,
    folder: opts.output,
    files: written,
    bytes,
    symlinks: links,
    folders: plan.dirs.length,
    kept,
    failed: failures.length,
  }
  out.result(result, () => `${written} file(s) (${formatBytes(bytes)}) written to ${opts.output}`)
  out.info(
    `from ${from}: ${written} file(s), ${links} symlink(s), ${plan.dirs.length} folder(s)${kept > 0 ? `; ${kept} already there kept` : ''}`,
  )
  if (failures.length > 0) {
    throw new CliError(
      'ERR_INCOMPLETE',
      `${failures.length} of ${plan.files.length + plan.symlinks.length} entries could not be written (see above)`,
      EXIT_FAILURE,
    )
  }
}

function planSnapshot(entries: SnapshotEntry[]): Plan {
  const plan: Plan = { files: [], dirs: [], symlinks: [], unsafe: [] }
  for (const e of entries) {
    const rel = e.path === '.' ? '' : e.path
    if (rel !== '' && !safe(rel)) plan.unsafe.push(e.path)
    else if (e.type === 'dir') plan.dirs.push({ rel, mode: e.mode, mtime: e.mtime })
    else if (e.type === 'file')
      plan.files.push({ rel, cid: e.cid, size: e.size, mode: e.mode, mtime: e.mtime })
    else plan.symlinks.push({ rel, target: e.target, mtime: e.mtime })
  }
  return plan
}

/**
 * The files named under `folder`, each at its name less the folder (a name on two objects gets
 * both, the second with its cid added), with the mode and time `meta` knows for that name and cid;
 * and the folders and symlinks `meta` holds under it.
 */
function planPath(
  objects: { cid: string; size: number; names: string[] }[],
  folder: string,
  meta: Map<string, SnapshotEntry>,
): Plan {
  const plan: Plan = { files: [], dirs: [], symlinks: [], unsafe: [] }
  const relOf = (name: string) =>
    folder === ''
      ? name
      : name === folder
        ? name.slice(name.lastIndexOf('/') + 1)
        : name.slice(folder.length + 1)
  const byName = new Map<string, { cid: string; size: number }[]>()
  for (const o of objects) {
    // Everything (`/`) takes the objects without a name too, each under its cid.
    if (folder === '' && o.names.length === 0) plan.files.push({ rel: o.cid, cid: o.cid, size: o.size })
    for (const name of o.names) {
      if (isUnder(name, folder)) byName.set(name, [...(byName.get(name) ?? []), { cid: o.cid, size: o.size }])
    }
  }
  for (const [name, objs] of byName) {
    const rel = relOf(name)
    if (!safe(rel)) {
      plan.unsafe.push(name)
      continue
    }
    objs.sort((a, b) => a.cid.localeCompare(b.cid))
    objs.forEach((o, i) => {
      const m = meta.get(name)
      const known = m?.type === 'file' && m.cid === o.cid ? { mode: m.mode, mtime: m.mtime } : {}
      plan.files.push({
        rel: i === 0 ? rel : `${rel} (${o.cid.slice(0, 12)})`,
        cid: o.cid,
        size: o.size,
        ...known,
      })
    })
  }
  for (const [name, m] of meta) {
    if (!isUnder(name, folder) || name === folder) continue
    const rel = relOf(name)
    if (!safe(rel)) continue
    if (m.type === 'dir') plan.dirs.push({ rel, mode: m.mode, mtime: m.mtime })
    else if (m.type === 'symlink') plan.symlinks.push({ rel, target: m.target, mtime: m.mtime })
  }
  return plan
}

/** The entries of the latest snapshot of each root that overlaps `folder`, by full name. */
async function metadataFor(
  client: ApiClient,
  snapshots: { id: string; root: string }[],
  folder: string,
  warn: (message: string) => void,
): Promise<Map<string, SnapshotEntry>> {
  const latest = new Map<string, string>()
  for (const s of snapshots) {
    if (isUnder(s.root, folder) || isUnder(folder, s.root)) latest.set(s.root, s.id)
  }
  const out = new Map<string, SnapshotEntry>()
  for (const [root, id] of latest) {
    let snap: z.infer<typeof SnapshotSchema>
    try {
      snap = await client.json(SnapshotSchema, 'GET', `/v1/snapshots/${encodeURIComponent(id)}`)
    } catch (err) {
      // The files are what was asked for; their modes and times are a bonus that may come later.
      warn(
        `the modes and times of ${root} (snapshot ${id}) could not be read (${(err as Error).message}); its files are written without them`,
      )
      continue
    }
    for (const e of snap.entries) out.set(e.path === '.' ? root : `${root}/${e.path}`, e)
  }
  return out
}

/** Makes each folder of `rel` under `top` that is missing; a symlink or file in the way is an error. */
async function makeDir(top: string, rel: string, made: Set<string>): Promise<void> {
  if (made.has(rel)) return
  let path = ''
  for (const part of rel.split('/')) {
    path = path === '' ? part : `${path}/${part}`
    if (made.has(path)) continue
    const abs = join(top, path)
    const info = await lstat(abs).catch(() => undefined)
    if (!info)
      await mkdir(abs).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err
      })
    else if (!info.isDirectory()) throw new CliError('ERR_FILE', `${path} is in the way: it is not a folder`)
    made.add(path)
  }
}

/**
 * Access and modification times for a recorded time in whole ms. Half a millisecond is added: the
 * time goes down as seconds in a double, and 1600000001.122 s comes back as …1.121999 ms otherwise.
 */
function timesOf(ms: number): [number, number] {
  const seconds = (ms + 0.5) / 1000
  return [seconds, seconds]
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/')
  return slash < 0 ? '' : rel.slice(0, slash)
}

function depth(rel: string): number {
  return rel === '' ? 0 : rel.split('/').length
}

/** A relative path that stays inside the folder. */
function safe(rel: string): boolean {
  const n = normalize(rel)
  return !isAbsolute(n) && n !== '..' && !n.startsWith(`..${sep}`) && n !== '.' && !rel.includes('\0')
}
