#!/usr/bin/env node
try {
  await import('../dist/cas.js')
} catch (err) {
  // A fresh clone before its first build: say what to do instead of a module-resolution trace.
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('cli/dist/cas.js')) {
    process.stderr.write(
      'cas: the CLI is not built yet; run `pnpm build` (or `pnpm demo`) at the repository root\n',
    )
    process.exit(1)
  }
  throw err
}
