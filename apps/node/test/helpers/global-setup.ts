import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))

/**
 * The end-to-end tests spawn the built daemon: build it and the packages it imports first.
 * turbo's cache makes this a no-op when `pnpm test` (or `pnpm build`) already built them.
 */
export default function setup(): void {
  execFileSync(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', '--filter=@cas/node...', '--output-logs=errors-only'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  )
}
