import { type ObjectInfoSchema, ObjectListSchema } from '@cas/api'
import type { z } from 'zod'
import type { CommandContext } from '../context.js'
import { UsageError } from '../errors.js'
import { formatAgo, formatBytes, formatTable } from '../output.js'

type ObjectInfo = z.infer<typeof ObjectInfoSchema>

export const LS_SORTS = ['name', 'size', 'date', 'replicas'] as const
export type LsSort = (typeof LS_SORTS)[number]

export interface LsOptions {
  /** Order of the listing; default the node's (by cid). */
  sort?: string
  reverse?: boolean
  /** Only objects with a name containing this text, or a cid starting with it (case-insensitive). */
  match?: string
  /** Only objects with fewer live replicas than wanted. */
  underReplicated?: boolean
  /** Only objects with a name at this path or under it as a folder (`photos` takes `photos/…`). */
  path?: string
}

/** Whether `name` is `path` or lies under it, `/` separating folders. */
export function isUnder(name: string, path: string): boolean {
  const folder = path.replace(/\/+$/, '')
  return folder === '' || name === folder || name.startsWith(`${folder}/`)
}

/** The folders directly under `path` among these names, with how many names each holds. */
export function subfolders(names: string[], path: string): Map<string, number> {
  const folder = path.replace(/\/+$/, '')
  const prefix = folder === '' ? '' : `${folder}/`
  const out = new Map<string, number>()
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    const rest = name.slice(prefix.length)
    const slash = rest.indexOf('/')
    if (slash > 0) out.set(rest.slice(0, slash), (out.get(rest.slice(0, slash)) ?? 0) + 1)
  }
  return out
}

const liveOf = (o: ObjectInfo) => o.holders.filter((h) => h.live).length
const createdOf = (o: ObjectInfo) => (typeof o.created === 'number' ? o.created : Date.parse(o.created))

const ORDER: Record<LsSort, (a: ObjectInfo, b: ObjectInfo) => number> = {
  name: (a, b) =>
    (a.names[0] ?? '\uffff').localeCompare(b.names[0] ?? '\uffff') || a.cid.localeCompare(b.cid),
  size: (a, b) => a.size - b.size,
  date: (a, b) => createdOf(a) - createdOf(b),
  // the least healthy first: live replicas short of wanted, most short at the top
  replicas: (a, b) => liveOf(a) - a.wanted - (liveOf(b) - b.wanted),
}

/** The objects `cas ls` shows, filtered and ordered as asked. */
export function selectObjects(objects: ObjectInfo[], opts: LsOptions): ObjectInfo[] {
  let sort: LsSort | undefined
  if (opts.sort !== undefined) {
    if (!(LS_SORTS as readonly string[]).includes(opts.sort)) {
      throw new UsageError(`--sort takes one of ${LS_SORTS.join(', ')}, not ${JSON.stringify(opts.sort)}`)
    }
    sort = opts.sort as LsSort
  }
  const needle = opts.match?.toLowerCase()
  let out = objects.filter(
    (o) =>
      (needle === undefined ||
        o.cid.startsWith(needle) ||
        o.names.some((n) => n.toLowerCase().includes(needle))) &&
      (!opts.underReplicated || liveOf(o) < o.wanted) &&
      (opts.path === undefined || o.names.some((n) => isUnder(n, opts.path as string))),
  )
  if (sort) out = [...out].sort(ORDER[sort])
  if (opts.reverse) out = [...out].reverse()
  return out
}

/** `cas ls`: the objects this node knows, with their replica health. */
export async function ls(ctx: CommandContext, opts: LsOptions = {}): Promise<void> {
  const client = await ctx.client()
  const all = await client.json(ObjectListSchema, 'GET', '/v1/objects')
  const objects = selectObjects(all, opts)
  const { out } = ctx
  out.result(objects, () => {
    if (objects.length === 0) return ''
    const rows = objects.map((o) => {
      const live = liveOf(o)
      const health = `${live}/${o.wanted}`
      // The live holder proven longest ago: how fresh the weakest evidence is.
      const proven = o.holders.filter((h) => h.live).map((h) => h.provenAt ?? 0)
      return [
        o.cid,
        formatBytes(o.size),
        live >= o.wanted ? out.green(health) : out.red(health),
        proven.length === 0 ? '-' : Math.min(...proven) === 0 ? 'never' : formatAgo(Math.min(...proven)),
        o.local ? 'yes' : 'no',
        o.names.join(', '),
      ]
    })
    return formatTable(['CID', 'SIZE', 'REPLICAS', 'PROVEN', 'LOCAL', 'NAMES'], rows)
  })
  if (all.length === 0) out.info('no objects yet; store one with `cas put <file>`')
  if (opts.path !== undefined) {
    const folders = subfolders(
      all.flatMap((o) => o.names),
      opts.path,
    )
    if (folders.size > 0) {
      out.info(`folders: ${[...folders].map(([f, n]) => `${f}/ (${n})`).join(', ')}`)
    } else if (objects.length === 0) {
      out.info(`nothing is stored under ${JSON.stringify(opts.path)}`)
    }
  } else if (objects.length === 0) out.info(`none of the ${all.length} objects matches`)
}
