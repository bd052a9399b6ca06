import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('.', import.meta.url))

/**
 * Global setup for suites that spawn built programs (the daemon, the `cas` binary): builds the package
 * under test, everything it imports, and the two apps, which no package imports (they run as
 * processes). turbo's cache makes this a no-op after `pnpm build` or `pnpm test`.
 */
export default function setup(): void {
  const { name } = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { name: string }
  execFileSync(
    'pnpm',
    [
      'exec',
      'turbo',
      'run',
      'build',
      `--filter=${name}...`,
      '--filter=@cas/node...',
      '--filter=@cas/cli...',
      '--output-logs=errors-only',
    ],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  )
}
