import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import type { Readable } from 'node:stream'
import type { CommandContext } from '../context.js'
import { CliError, UsageError } from '../errors.js'
import { formatBytes } from '../output.js'
import { byteCounter, ProgressBar } from '../progress.js'
import { PutResultSchema } from '../schemas.js'
import { parseReplication } from './arguments.js'

export interface PutOptions {
  name?: string | false
  replication?: string
}

/** `cas put <file|->`: streams a file (or stdin) to the node; prints the cid. */
export async function put(ctx: CommandContext, file: string, opts: PutOptions): Promise<void> {
  const { out } = ctx
  const fromStdin = file === '-'
  let size: number | undefined
  if (!fromStdin) {
    try {
      const info = await stat(file)
      if (!info.isFile()) throw new UsageError(`${file} is not a regular file`)
      size = info.size
    } catch (err) {
      if (err instanceof CliError) throw err
      throw new CliError(
        'ERR_FILE',
        `cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
      )
    }
  }
  const query = new URLSearchParams()
  const name = opts.name === false ? undefined : (opts.name ?? (fromStdin ? undefined : basename(file)))
  if (name !== undefined) query.set('name', name)
  if (opts.replication !== undefined) query.set('replication', String(parseReplication(opts.replication)))

  const client = await ctx.client()
  const source: Readable = fromStdin ? process.stdin : createReadStream(file, { highWaterMark: 1024 * 1024 })
  let body: Readable = source
  if (out.progress) {
    const bar = new ProgressBar({ stream: out.stderr, label: `put ${name ?? 'stdin'}`, total: size })
    body = source.pipe(byteCounter((n) => bar.add(n)))
    source.on('error', (err) => body.destroy(err))
    body.on('end', () => bar.finish('sent; replicating…'))
  }
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' }
  if (size !== undefined) headers['content-length'] = String(size)
  const result = await client.json(PutResultSchema, 'POST', `/v1/objects?${query}`, { body, headers })
  out.result(result, () => result.cid)
  out.info(
    `stored ${name ?? 'stdin'} (${formatBytes(result.size)}): ${result.replicas.length}/${result.wanted} replicas`,
  )
  if (result.underReplicated) {
    out.warn(
      `only ${result.replicas.length} of ${result.wanted} replicas acknowledged; the node will repair it later`,
    )
  }
}
