// Bundles the daemon (dist/main.js and everything it imports) into dist/daemon.js, the file the node runs.
// Why: a node process spent most of its start loading several hundred small modules (resolving, reading,
// compiling each); one file halves the CPU of a start (docs/decisions.md, "The daemon runs as one file").
// Left outside the bundle, resolved from this app's own dependencies at run time: packages with native
// addons or optional native parts (lmdb, msgpackr), those loaded only when asked for (hyperdht for --dht,
// pino-pretty for human-readable logs), and the dashboard, which finds its page files next to itself.
import { build } from 'esbuild'
import { appBundleOptions } from '../../../scripts/app-bundle-options.mjs'

const common = appBundleOptions(['lmdb', 'msgpackr', 'hyperdht', 'pino-pretty', '@cas/dashboard'])

await build({
  ...common,
  entryPoints: [new URL('../dist/main.js', import.meta.url).pathname],
  outfile: new URL('../dist/daemon.js', import.meta.url).pathname,
})

// The seal thread's file (@cas/crypto's SealThread), which it looks for beside the code that starts it.
await build({
  ...common,
  entryPoints: [new URL('../../../packages/crypto/dist/seal-worker.js', import.meta.url).pathname],
  outfile: new URL('../dist/seal-worker.js', import.meta.url).pathname,
})
