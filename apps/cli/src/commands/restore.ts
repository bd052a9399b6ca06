import { CatalogueSyncSchema } from '@cas/api'
import type { CommandContext } from '../context.js'
import { CliError } from '../errors.js'
import { EXIT_FAILURE } from '../exit-codes.js'
import { getFolder } from './get-folder.js'

/**
 * `cas restore [-o DIR]`: brings the owner's catalogue back from the heads its peers hold (what a
 * new machine set up with `cas init --recover` needs), then, with `-o`, fetches every named object
 * into DIR as `cas get -r / -o DIR` does (folders from the `/` in names, modes and times from
 * snapshots), keeping the files already there: run again, it finishes what a first run left.
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
  await getFolder(ctx, '/', { output: opts.output, keepExisting: true })
}
