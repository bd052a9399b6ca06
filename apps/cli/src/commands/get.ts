import { randomBytes } from 'node:crypto'
import { createWriteStream, rmSync } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { Transform, type TransformCallback, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CidHasher } from '@cas/crypto'
import type { CommandContext } from '../context.js'
import { CliError, IntegrityError, UsageError } from '../errors.js'
import { formatBytes } from '../output.js'
import { ProgressBar } from '../progress.js'
import { objectPath } from './arguments.js'

export interface GetOptions {
  output?: string
}

/**
 * `cas get <cid|name|capability>`: streams the object to stdout or to `-o file`, checking on
 * the way that it hashes to its cid (the node checks every chunk; this checks the node). A file is written under a temporary name and renamed
 * only once it checks out, so a failed get never leaves a wrong file behind.
 */
export async function get(ctx: CommandContext, ref: string, opts: GetOptions): Promise<void> {
  const { out } = ctx
  if (ref.length === 0) throw new UsageError('give a cid, a name or a capability')
  if (out.json && (opts.output === undefined || opts.output === '-')) {
    throw new UsageError('--json needs -o <file>: without it the object itself goes to stdout')
  }
  // Checked before anything is fetched: where the bytes will go must exist.
  const into = opts.output === undefined || opts.output === '-' ? undefined : await outputTarget(opts.output)
  const client = await ctx.client()
  const res = await client.send('GET', objectPath(ref))
  const cid = String(res.headers['x-cas-cid'] ?? '')
  const size = Number(res.headers['content-length'])
  const storedName = headerName(res.headers['x-cas-name'])
  const fileName = into?.folder ? fileNameFor(storedName, cid) : undefined
  const final = into?.folder && fileName ? join(into.folder, fileName) : into?.file
  // As the user wrote it (relative stays relative), with the file name added for a folder.
  const shown = opts.output && fileName ? join(opts.output, fileName) : opts.output
  const hash = new CidHasher()
  let received = 0
  const bar = out.progress
    ? new ProgressBar({
        stream: out.stderr,
        label: `get ${final ? basename(final) : cid.slice(0, 12)}`,
        total: size,
      })
    : undefined
  const check = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      hash.update(chunk)
      received += chunk.length
      bar?.add(chunk.length)
      done(null, chunk)
    },
    flush(done) {
      const digest = hash.digest()
      if (received !== size) done(new IntegrityError(`the node sent ${received} bytes of ${size}`))
      else if (digest !== cid)
        done(new IntegrityError(`the data read back hashes to ${digest}, not to its cid ${cid}`))
      else done()
    },
  })
  let target: Writable
  let tmp: string | undefined
  if (final === undefined) {
    target = out.stdout
  } else {
    tmp = join(dirname(final), `.${basename(final)}.cas-${randomBytes(4).toString('hex')}.partial`)
    target = createWriteStream(tmp, { flags: 'wx' })
  }
  // Ctrl-C mid-download: remove the partial file before exiting, as a failed get would.
  const onSignal = () => {
    if (tmp) rmSync(tmp, { force: true })
    process.exit(130)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    // stdout must not be ended by the pipeline (later writes, and the parent's pipe, need it).
    if (target === out.stdout) {
      await pipeline(res, check, async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) {
          if (!out.stdout.write(chunk)) await new Promise((r) => out.stdout.once('drain', r))
        }
      })
    } else {
      await pipeline(res, check, target)
    }
  } catch (err) {
    if (tmp) await rm(tmp, { force: true })
    if (err instanceof CliError) throw err
    throw new CliError(
      'ERR_TRANSFER',
      `the download of ${cid || ref} failed: ${(err as Error).message}`,
      undefined,
      { cause: err },
    )
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    bar?.finish()
  }
  if (tmp && final) await rename(tmp, final)
  const path = final ? (shown as string) : '-'
  out.result({ cid, size, path }, () => '')
  out.info(`got ${cid} (${formatBytes(size)})${final ? ` → ${path}` : ''}`)
}

/**
 * Where `-o` points: an existing folder (the object is saved in it under its stored name, else its
 * cid) or a file in an existing folder. ERR_FILE, before any transfer, when the folder is missing.
 */
async function outputTarget(output: string): Promise<{ folder?: string; file?: string }> {
  const path = resolve(output)
  const info = await stat(path).catch(() => undefined)
  if (info?.isDirectory()) return { folder: path }
  const parent = await stat(dirname(path)).catch(() => undefined)
  if (!parent?.isDirectory()) {
    throw new CliError('ERR_FILE', `cannot write ${output}: there is no folder ${dirname(output)}`)
  }
  return { file: path }
}

function headerName(value: string | string[] | undefined): string | undefined {
  if (typeof value !== 'string') return undefined
  try {
    return decodeURIComponent(value)
  } catch {
    return undefined
  }
}

/** A stored name as a file name in one folder: its last part only, never `.`, `..` or empty. */
export function fileNameFor(name: string | undefined, cid: string): string {
  const last = name?.split(/[/\\]/).at(-1)
  return last === undefined || last === '' || last === '.' || last === '..' ? cid : last
}
