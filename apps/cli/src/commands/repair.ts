import { RepairSchema, StatusSchema } from '@cas/api'
import type { CommandContext } from '../context.js'
import { ProgressBar } from '../progress.js'

/** How often `cas repair` reads the pass's progress while it runs. */
const POLL_MS = 250

/**
 * `cas repair`: runs a repair pass now (the node also runs one every repair interval) and prints
 * what it found; on a TTY a bar follows the pass object by object.
 */
export async function repair(ctx: CommandContext): Promise<void> {
  const { out } = ctx
  const client = await ctx.client()
  const pass = client.json(RepairSchema, 'POST', '/v1/repair')
  let bar: ProgressBar | undefined
  if (out.progress) {
    const follow = async () => {
      for (;;) {
        const done = await Promise.race([
          pass.then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), POLL_MS)),
        ])
        if (done) return
        const { repair: now } = await client.json(StatusSchema, 'GET', '/v1/status')
        if (!now.pass) continue
        bar ??= new ProgressBar({
          stream: out.stderr,
          label: 'repair',
          total: now.pass.total,
          format: (n) => `${Math.round(n)} objects`,
        })
        bar.set(now.pass.checked)
      }
    }
    await Promise.all([pass, follow()])
  }
  const result = await pass
  bar?.finish('done')
  out.result(result, () => '')
  out.info(
    `repair: ${result.healthy} healthy, ${result.underReplicated} under-replicated` +
      (result.underReplicated > 0 ? ' (not enough live peers, or holders still in their grace period)' : ''),
  )
}
