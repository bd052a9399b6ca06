import { SnapshotListSchema } from '@cas/api'
import type { CommandContext } from '../context.js'
import { formatBytes, formatTable } from '../output.js'

/** `cas snapshots [ROOT]`: the snapshots of folders, oldest first. */
export async function snapshots(ctx: CommandContext, root?: string): Promise<void> {
  const client = await ctx.client()
  const all = await client.json(SnapshotListSchema, 'GET', '/v1/snapshots')
  const shown = root === undefined ? all : all.filter((s) => s.root === root.replace(/\/+$/, ''))
  ctx.out.result(shown, () =>
    shown.length === 0
      ? ''
      : formatTable(
          ['ID', 'TAKEN', 'FOLDER', 'FILES', 'SIZE'],
          shown.map((s) => [
            s.id,
            new Date(s.at).toISOString().replace('T', ' ').slice(0, 19),
            s.root,
            String(s.files),
            formatBytes(s.bytes),
          ]),
        ),
  )
  if (shown.length === 0) {
    ctx.out.info(
      root === undefined
        ? 'no snapshots yet; store a folder with `cas put -r DIR`'
        : `no snapshots of ${root}`,
    )
  } else {
    ctx.out.info('`cas get -r ID -o DIR` writes one back (the start of an ID is enough)')
  }
}
