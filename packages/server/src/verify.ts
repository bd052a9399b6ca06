import { createHash } from 'node:crypto'
import type { ServerContext } from './context.js'

/**
 * Re-hashes each local plaintext object against its cid: every object the store lists, and every
 * catalogued object with a file in place, so that one whose header is damaged (which `list` cannot
 * name) is reported too.
 */
export async function verifyLocal(ctx: ServerContext): Promise<{ checked: number; damaged: string[] }> {
  const self = { namespace: 'self' }
  const cids = new Set<string>()
  for await (const cid of ctx.store.list('self')) cids.add(cid)
  for (const rec of ctx.catalogue.objects()) {
    if (!cids.has(rec.cid) && (await ctx.store.has(rec.cid, self))) cids.add(rec.cid)
  }
  let checked = 0
  const damaged: string[] = []
  for (const cid of cids) {
    const hash = createHash('sha256')
    try {
      for await (const chunk of ctx.store.read(cid, self)) hash.update(chunk as Uint8Array)
      if (hash.digest('hex') !== cid) damaged.push(cid)
    } catch {
      damaged.push(cid)
    }
    checked++
  }
  return { checked, damaged }
}
