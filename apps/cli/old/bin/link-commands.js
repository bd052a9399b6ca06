#!/usr/bin/env node
// `pnpm link-commands` at the repository root: puts `cas` and `cas-node` on PATH (built first).
const { runLinkCommands } = await import('../dist/link-commands.js')
try {
  await runLinkCommands()
} catch (err) {
  process.stderr.write(`cas: ${err.message}\n`)
  process.exit(1)
}
