import { StopResultSchema } from '@cas/api'
import type { CommandContext } from '../context.js'
import { CliError, NodeUnreachableError } from '../errors.js'

/** How long `cas stop` waits for the node to finish its transfers and go (its --shutdown-timeout, plus). */
const STOP_WAIT_MS = 30_000
const POLL_MS = 100

/** `cas stop`: asks the node to stop gracefully (as SIGTERM does) and waits until it has gone. */
export async function stop(ctx: CommandContext): Promise<void> {
  const client = await ctx.client()
  const result = await client.json(StopResultSchema, 'POST', '/v1/stop')
  const deadline = Date.now() + STOP_WAIT_MS
  for (;;) {
    try {
      const res = await client.send('GET', '/healthz')
      res.resume()
    } catch (err) {
      if (err instanceof NodeUnreachableError) break
      // The node closes its connections as it goes: a reset after the stop was accepted is it going.
      const code = (err as { cause?: { code?: unknown } }).cause?.code
      if (code === 'ECONNRESET' || code === 'EPIPE') break
      throw err
    }
    if (Date.now() > deadline) {
      throw new CliError(
        'ERR_STOP_TIMEOUT',
        `the node (pid ${result.pid}) is still running after ${STOP_WAIT_MS / 1000} s`,
      )
    }
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
  ctx.out.result(result, () => '')
  ctx.out.info(`stopped the node (pid ${result.pid})`)
}
