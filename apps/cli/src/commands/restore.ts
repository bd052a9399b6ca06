import { mkdir, stat } from 'node:fs/promises'
import { isAbsolute, join, normalize, sep } from 'node:path'
import type { CommandContext } from '../context.js'
import { CliError } from '../errors.js'
import { EXIT_FAILURE } from '../exit-codes.js'
import { Output } from '../output.js'
import { CatalogueSyncSchema, ObjectListSchema } from '../schemas.js'
import { get } from './get.js'

/**
 * `cas restore [-o DIR]`: brings the owner's catalogue back from the heads its peers hold (what a
 * new machine set up with `cas init --recover` needs), then, with `-o`, fetches every object into
 * DIR under its stored name (folders from the `/` in names; a name on two objects gets both, the
 * second with its cid added; an object without a name under its cid). Existing files are kept.
 */
export async function restore(ctx: CommandContext, opts: { output?: string }): Promise<void> {
  const client = await ctx.client()
  const synced = await client.json(CatalogueSyncSchema, 'POST', '/v1/catalogue/sync')
  if (synced.peers === 0) {
    throw new CliError(
      'ERR_NO_PEERS',
      'no peer answered: connect the node to one (`cas peers add host:port`, or start it with --bootstrap) and run `cas restore` again',
      EXIT_FAILURE,
    )
  }
  const summary = `catalogue: ${synced.objects} objects (${synced.ops} changes merged from ${synced.devices} other device(s), ${synced.segments} segment(s))`
  if (synced.missing > 0) {
    ctx.out.info(
      `${synced.missing} segment(s) could not be read now (their holders are not reachable); run again later`,
    )
  }
  if (opts.output === undefined) {
    ctx.out.result(synced, () => summary)
    ctx.out.info('`cas ls` lists the files; `cas get NAME`, or `cas restore -o DIR` for all of them')
    return
  }
  ctx.out.info(summary)
  const objects = await client.json(ObjectListSchema, 'GET', '/v1/objects')
  const wanted = targets(objects)
  let written = 0
  const skipped: string[] = []
  for (const { path, cid } of wanted) {
    const file = join(opts.output, path)
    if (await exists(file)) {
      skipped.push(path)
      continue
    }
    await mkdir(join(file, '..'), { recursive: true })
    // Each file quietly: the summary says what was written.
    await get({ ...ctx, out: new Output({ json: false, quiet: true, env: ctx.env }) }, cid, { output: file })
    written++
  }
  const result = { ...synced, written, skipped: skipped.length, folder: opts.output }
  ctx.out.result(result, () => `${written} file(s) written to ${opts.output}`)
  if (skipped.length > 0)
    ctx.out.info(`${skipped.length} file(s) already there were kept: ${skipped.slice(0, 5).join(', ')}`)
}

/** Where each object goes under the folder; names that would climb out of it are not used. */
function targets(objects: { cid: string; names: string[] }[]): { path: string; cid: string }[] {
  const byName = new Map<string, string[]>()
  const out: { path: string; cid: string }[] = []
  for (const o of objects) {
    const names = o.names.filter(safe)
    if (names.length === 0) out.push({ path: o.cid, cid: o.cid })
    for (const name of names) byName.set(name, [...(byName.get(name) ?? []), o.cid])
  }
  for (const [name, cids] of byName) {
    cids.sort().forEach((cid, i) => {
      out.push({ path: i === 0 ? name : `${name} (${cid.slice(0, 12)})`, cid })
    })
  }
  return out
}

function safe(name: string): boolean {
  const n = normalize(name)
  return !isAbsolute(n) && n !== '..' && !n.startsWith(`..${sep}`) && n !== '.'
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}
