import { type FileHandle, open } from 'node:fs/promises'
import { basename } from 'node:path'
import type { Readable } from 'node:stream'
import { PutResultSchema } from '@cas/api'
import { type ApiClient, FileBody } from '@cas/api/client'
import type { z } from 'zod'
import type { CommandContext } from '../context.js'
import { CliError, UsageError } from '../errors.js'
import { formatBytes } from '../output.js'
import { byteCounter, ProgressBar } from '../progress.js'

type PutResult = z.infer<typeof PutResultSchema>

import { parseReplication } from './arguments.js'

export interface PutOptions {
  name?: string | false
  replication?: string
}

export function fileProblem(err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') return 'no such file'
  if (err.code === 'EACCES' || err.code === 'EPERM') return 'permission denied'
  if (err.code === 'EISDIR') return 'it is a folder'
  return err.message
}

/**
 * Sends one object's bytes to the node (`POST /v1/objects`): streamed, from memory (sent in one
 * write) or from a file; resolves with its answer. `size` is a stream's length when known.
 */
export function upload(
  client: ApiClient,
  body: Readable | Uint8Array | FileBody,
  query: URLSearchParams,
  size?: number,
): Promise<PutResult> {
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' }
  if (size !== undefined && !(body instanceof Uint8Array) && !(body instanceof FileBody)) {
    headers['content-length'] = String(size)
  }
  return client.json(PutResultSchema, 'POST', `/v1/objects?${query}`, { body, headers })
}

/** `cas put <file|->`: streams a file (or stdin) to the node; prints the cid. */
export async function put(ctx: CommandContext, file: string, opts: PutOptions): Promise<void> {
  const { out } = ctx
  const fromStdin = file === '-'
  let size: number | undefined
  let handle: FileHandle | undefined
  if (!fromStdin) {
    // Opened here, before the request: a file that cannot be read fails now with its reason, not as a
    // broken upload ("socket hang up") once the node is already receiving.
    try {
      handle = await open(file, 'r')
      const info = await handle.stat()
      if (!info.isFile()) throw new UsageError(`${file} is not a regular file`)
      size = info.size
    } catch (err) {
      await handle?.close()
      if (err instanceof CliError) throw err
      throw new CliError('ERR_FILE', `cannot read ${file}: ${fileProblem(err as NodeJS.ErrnoException)}`)
    }
  }
  const query = new URLSearchParams()
  const name = opts.name === false ? undefined : (opts.name ?? (fromStdin ? undefined : basename(file)))
  if (name !== undefined) query.set('name', name)
  if (opts.replication !== undefined) query.set('replication', String(parseReplication(opts.replication)))

  const client = await ctx.client().catch(async (err: unknown) => {
    await handle?.close()
    throw err
  })
  const bar = out.progress
    ? new ProgressBar({ stream: out.stderr, label: `put ${name ?? 'stdin'}`, total: size })
    : undefined
  let body: Readable | FileBody
  if (handle && size !== undefined) {
    let sent = 0
    const sentAll = (): void => bar?.finish('sent; replicating…')
    body = new FileBody(handle, size, (n) => {
      bar?.add(n)
      sent += n
      if (sent === size) sentAll()
    })
    if (size === 0) sentAll()
  } else if (bar) {
    const counted = process.stdin.pipe(byteCounter((n) => bar.add(n)))
    process.stdin.on('error', (err) => counted.destroy(err))
    counted.on('end', () => bar.finish('sent; replicating…'))
    body = counted
  } else {
    body = process.stdin
  }
  const result = await upload(client, body, query, size).finally(() => handle?.close())
  out.result(result, () => result.cid)
  out.info(
    `stored ${name ?? 'stdin'} (${formatBytes(result.size)}): ${result.replicas.length}/${result.wanted} replicas`,
  )
  for (const r of result.refused) {
    out.warn(`peer ${r.nodeId.slice(0, 12)} refused the replica: ${r.code}: ${r.message}`)
  }
  if (result.underReplicated) {
    out.warn(
      `only ${result.replicas.length} of ${result.wanted} replicas acknowledged; the node will repair it later`,
    )
  }
}
