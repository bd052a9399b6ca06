import { cidOf } from '@cas/crypto'
import * as z from 'zod'
import { BadRequestError } from './errors.js'
import { ID_PATTERN } from './ids.js'
import { nameProblem } from './names.js'

/**
 * A folder as a snapshot records it: one tree per folder, each an internal object listing its
 * entries (files by cid, subfolders by their tree's cid, symlinks by target, never followed) with
 * their modes and modification times. A folder whose tree did not change between two snapshots has
 * the same bytes, so the same cid, and is neither stored nor sent again.
 */

/** The largest tree read back (one folder's listing). */
export const MAX_TREE_BYTES = 64 * 1024 * 1024
/** Most entries one snapshot may list. */
export const MAX_SNAPSHOT_ENTRIES = 1_000_000
/** Longest symlink target recorded. */
const MAX_TARGET_BYTES = 4096

const mode = z.number().int().min(0).max(0o7777)
const mtime = z.number().int().nonnegative()
const cid = z.string().regex(ID_PATTERN)

/** A path inside the folder: `/`-separated parts, none empty, `.` or `..`; `.` is the folder itself. */
const relPath = z.string().superRefine((path, ctx) => {
  const problem = pathProblem(path)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})

/** One entry of a folder as the HTTP API carries it (the contract of `POST /v1/snapshots`). */
export const snapshotEntrySchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('file'),
    path: relPath,
    mode,
    mtime,
    size: z.number().int().nonnegative(),
    cid,
  }),
  z.object({ type: z.literal('dir'), path: relPath, mode, mtime }),
  z.object({
    type: z.literal('symlink'),
    path: relPath,
    mtime,
    target: z
      .string()
      .min(1)
      .refine((t) => Buffer.byteLength(t) <= MAX_TARGET_BYTES && !t.includes('\0'), 'bad symlink target'),
  }),
])
export type SnapshotEntry = z.infer<typeof snapshotEntrySchema>
/** A snapshot's entries as FileServer.putSnapshot takes them. */
export const snapshotEntriesSchema = z.array(snapshotEntrySchema).max(MAX_SNAPSHOT_ENTRIES)

const treeName = z.string().superRefine((name, ctx) => {
  if (name.includes('/') || pathProblem(name) !== undefined)
    ctx.addIssue({ code: 'custom', message: 'bad name' })
})

/** One folder's tree object: the contract for trees read back from the network. */
const treeSchema = z.object({
  v: z.literal(1),
  mode,
  mtime,
  entries: z.array(
    z.discriminatedUnion('type', [
      z.object({
        type: z.literal('file'),
        name: treeName,
        mode,
        mtime,
        size: z.number().int().nonnegative(),
        cid,
      }),
      z.object({ type: z.literal('dir'), name: treeName, tree: cid }),
      z.object({ type: z.literal('symlink'), name: treeName, mtime, target: z.string().min(1) }),
    ]),
  ),
})
type Tree = z.infer<typeof treeSchema>

/** Why `path` cannot be a path inside a snapshot's folder, or undefined when it can. */
export function pathProblem(path: string): string | undefined {
  if (path === '.') return undefined
  const problem = nameProblem(path)
  if (problem) return problem
  if (path.startsWith('/')) return 'a path inside a folder is relative'
  for (const part of path.split('/')) {
    if (part === '' || part === '.' || part === '..') return 'a path has no empty, `.` or `..` parts'
  }
  return undefined
}

export interface TreeStore {
  /** Whether an object with this cid is already stored for the owner. */
  has(cid: string): boolean
  /** Stores a tree as an internal object; resolves with its cid. */
  put(bytes: Uint8Array): Promise<string>
}

export interface StoredTrees {
  /** The cid of the folder's own tree. */
  tree: string
  files: number
  bytes: number
  /** Trees written by this call (the others were stored by an earlier snapshot). */
  stored: number
}

/**
 * Stores the trees of a folder given as a flat list of entries, deepest folders first, and
 * resolves with the root's cid. A folder named by no entry of its own (the root included) gets mode
 * 755 and time 0. BadRequestError for a list that is not a tree: a path twice, or a path under a file.
 */
export async function storeTrees(entries: readonly SnapshotEntry[], store: TreeStore): Promise<StoredTrees> {
  if (entries.length > MAX_SNAPSHOT_ENTRIES) {
    throw new BadRequestError(`a snapshot lists at most ${MAX_SNAPSHOT_ENTRIES} entries`)
  }
  const kinds = new Map<string, SnapshotEntry['type']>()
  for (const e of entries) {
    if (kinds.has(e.path)) throw new BadRequestError(`the snapshot lists ${JSON.stringify(e.path)} twice`)
    if (e.path === '.' && e.type !== 'dir') throw new BadRequestError('`.` is the folder itself')
    kinds.set(e.path, e.type)
  }
  const dirs = new Map<string, { mode: number; mtime: number; entries: Tree['entries'] }>()
  const dir = (path: string) => {
    let d = dirs.get(path)
    if (!d) {
      d = { mode: 0o755, mtime: 0, entries: [] }
      dirs.set(path, d)
    }
    return d
  }
  dir('.')
  let files = 0
  let bytes = 0
  for (const e of entries) {
    // Every folder above it, made when no entry of its own names it; a file above it is an error.
    for (let p = e.path; p !== '.'; ) {
      p = parentOf(p)
      const kind = kinds.get(p)
      if (kind !== undefined && kind !== 'dir')
        throw new BadRequestError(`${JSON.stringify(p)} is not a folder`)
      if (dirs.has(p)) break
      dir(p)
    }
    const name = e.path.slice(e.path.lastIndexOf('/') + 1)
    if (e.type === 'dir') {
      const d = dir(e.path)
      d.mode = e.mode
      d.mtime = e.mtime
    } else if (e.type === 'file') {
      files++
      bytes += e.size
      dir(parentOf(e.path)).entries.push({
        type: 'file',
        name,
        mode: e.mode,
        mtime: e.mtime,
        size: e.size,
        cid: e.cid,
      })
    } else {
      dir(parentOf(e.path)).entries.push({ type: 'symlink', name, mtime: e.mtime, target: e.target })
    }
  }
  // Deepest first: a folder's tree is stored before its parent's, which names it by cid.
  const depth = (p: string) => (p === '.' ? 0 : p.split('/').length)
  const order = [...dirs.keys()].sort((a, b) => depth(b) - depth(a))
  let root = ''
  let stored = 0
  for (const path of order) {
    const d = dirs.get(path) as NonNullable<ReturnType<typeof dirs.get>>
    d.entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const encoded = Buffer.from(
      JSON.stringify({ v: 1, mode: d.mode, mtime: d.mtime, entries: d.entries } satisfies Tree),
    )
    let tree = cidOf(encoded)
    if (!store.has(tree)) {
      tree = await store.put(encoded)
      stored++
    }
    if (path === '.') root = tree
    else dir(parentOf(path)).entries.push({ type: 'dir', name: path.slice(path.lastIndexOf('/') + 1), tree })
  }
  return { tree: root, files, bytes, stored }
}

/**
 * The flat list of a snapshot's entries, read tree by tree from `read` (here or the network):
 * the folder itself as `.`, then every path under it, each folder before what it holds.
 */
export async function readTrees(
  root: string,
  read: (cid: string, max: number) => Promise<Uint8Array>,
): Promise<SnapshotEntry[]> {
  const out: SnapshotEntry[] = []
  const queue: { path: string; cid: string }[] = [{ path: '.', cid: root }]
  for (let next = queue.shift(); next; next = queue.shift()) {
    const bytes = await read(next.cid, MAX_TREE_BYTES)
    let tree: Tree
    try {
      tree = treeSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')))
    } catch (err) {
      throw new BadRequestError(`tree ${next.cid} of the snapshot is not a tree: ${(err as Error).message}`)
    }
    out.push({ type: 'dir', path: next.path, mode: tree.mode, mtime: tree.mtime })
    for (const e of tree.entries) {
      const path = next.path === '.' ? e.name : `${next.path}/${e.name}`
      if (e.type === 'dir') queue.push({ path, cid: e.tree })
      else if (e.type === 'file')
        out.push({ type: 'file', path, mode: e.mode, mtime: e.mtime, size: e.size, cid: e.cid })
      else out.push({ type: 'symlink', path, mtime: e.mtime, target: e.target })
      if (out.length + queue.length > MAX_SNAPSHOT_ENTRIES) {
        throw new BadRequestError(`the snapshot lists more than ${MAX_SNAPSHOT_ENTRIES} entries`)
      }
    }
  }
  return out
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/')
  return slash < 0 ? '.' : path.slice(0, slash)
}
