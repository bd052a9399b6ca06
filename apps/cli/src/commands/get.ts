import { rmSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { CommandContext } from '../context.js'
import { partialName, saveDownload, startDownload, transferError, verifier } from '../download.js'
import { CliError, UsageError } from '../errors.js'
import { formatBytes } from '../output.js'
import { ProgressBar } from '../progress.js'

export interface GetOptions {
  output?: string
}

/**
 * `cas get <cid|name|capability>`: streams the object to stdout (saved under its stored name when
 * stdout is a terminal) or to `-o file|folder`, checking on the way that it hashes to its cid (the
 * node checks every chunk; this checks the node). A file is written under a temporary name and
 * renamed only once it checks out, so a failed get never leaves a wrong file behind.
 */
export async function get(ctx: CommandContext, ref: string, opts: GetOptions): Promise<void> {
  const { out } = ctx
  if (ref.length === 0) throw new UsageError('give a cid, a name or a capability')
  if (out.json && (opts.output === undefined || opts.output === '-')) {
    throw new UsageError('--json needs -o <file>: without it the object itself goes to stdout')
  }
  // To a terminal, bytes would be noise: the object is saved in the current folder under its stored
  // name instead (never over a file that is there).
  const toTerminal = opts.output === undefined && out.stdout.isTTY === true
  const output = toTerminal ? '.' : opts.output
  // Checked before anything is fetched: where the bytes will go must exist.
  const into =
    output === undefined || output === '-'
      ? undefined
      : toTerminal
        ? { folder: resolve(output) }
        : await outputTarget(output)
  const client = await ctx.client()
  const d = await startDownload(client, ref)
  const { cid, size } = d
  const fileName = into?.folder ? fileNameFor(d.storedName, cid) : undefined
  const final = into?.folder && fileName ? join(into.folder, fileName) : into?.file
  // As the user wrote it (relative stays relative), with the file name added for a folder.
  const shown = output && fileName ? join(output, fileName) : output
  if (final && toTerminal && (await stat(final).catch(() => undefined))) {
    d.res.destroy()
    throw new CliError('ERR_FILE', `${shown} exists already; choose where to save with -o`)
  }
  const bar = out.progress
    ? new ProgressBar({
        stream: out.stderr,
        label: `get ${final ? basename(final) : cid.slice(0, 12)}`,
        total: size,
      })
    : undefined
  const onBytes = (n: number) => bar?.add(n)
  const tmp = final ? partialName(final) : undefined
  // Ctrl-C mid-download: remove the partial file before exiting, as a failed get would.
  const onSignal = () => {
    if (tmp) rmSync(tmp, { force: true })
    process.exit(130)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    if (final && tmp) {
      await saveDownload(d, final, { onBytes, tmp })
    } else {
      // stdout must not be ended by the pipeline (later writes, and the parent's pipe, need it).
      await pipeline(d.res, verifier(cid, size, onBytes), async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) {
          if (!out.stdout.write(chunk)) await new Promise((r) => out.stdout.once('drain', r))
        }
      }).catch((err: unknown) => {
        throw transferError(err, cid || ref)
      })
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    bar?.finish()
  }
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

/** A stored name as a file name in one folder: its last part only, never `.`, `..` or empty. */
export function fileNameFor(name: string | undefined, cid: string): string {
  const last = name?.split(/[/\\]/).at(-1)
  return last === undefined || last === '' || last === '.' || last === '..' ? cid : last
}
