import { spawn } from 'node:child_process'
import { UiLinkSchema } from '@cas/api'
import type { CommandContext } from '../context.js'

export interface UiOptions {
  /** false: print the link only (`--no-open`). */
  open?: boolean
}

/**
 * `cas ui`: a one-time sign-in link to the node's dashboard, printed and opened in the browser. The
 * link carries a code (in its fragment) that the page trades once for the API token; it works for
 * five minutes.
 */
export async function ui(ctx: CommandContext, opts: UiOptions = {}): Promise<void> {
  const client = await ctx.client()
  const link = await client.json(UiLinkSchema, 'POST', '/v1/ui/links')
  ctx.out.result(link, () => link.url)
  const opened = opts.open !== false && !ctx.globals.json && openInBrowser(link.url, ctx.env)
  ctx.out.info(
    opened
      ? 'opening it in your browser; the link works once, for 5 minutes'
      : 'open it in a browser on this machine; it works once, for 5 minutes',
  )
}

/** Starts the desktop's opener for `url`, detached; false where there is none (a server, CI). */
function openInBrowser(url: string, env: NodeJS.ProcessEnv): boolean {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]]
  // No display on Linux: xdg-open would fall back to a text browser in this terminal.
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return false
  try {
    const child = spawn(command as string, args as string[], { detached: true, stdio: 'ignore' })
    child.on('error', () => undefined)
    child.unref()
    return true
  } catch {
    return false
  }
}
