import { createHash } from 'node:crypto'
import type { ServerContext } from './context.js'

/** Re-hashes each local plaintext object against its cid. */
export async function verifyLocal(ctx: ServerContext): Promise<{ checked: number; damaged: string[] }> {
  let checked = 0
  const damaged: string[] = []
  for await (const cid of ctx.store.list('self')) {
    const hash = createHash('sha256')
    try {
      for await (const chunk of ctx.store.read(cid, { namespace: 'self' })) hash.update(chunk as Uint8Array)
      if (hash.digest('hex') !== cid) damaged.push(cid)
    } catch {
      damaged.push(cid)
    }
    checked++
  }
  return { checked, damaged }
}
