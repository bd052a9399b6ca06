// Bundles the daemon (dist/main.js and everything it imports) into dist/daemon.js, the file the node runs.
// Why: a node process spent most of its start loading several hundred small modules (resolving, reading,
// compiling each); one file halves the CPU of a start (docs/decisions.md, "The daemon runs as one file").
// Left outside the bundle, resolved from this app's own dependencies at run time: packages with native
// addons or optional native parts (lmdb, msgpackr), those loaded only when asked for (hyperdht for --dht,
// pino-pretty for human-readable logs), and the dashboard, which finds its page files next to itself.
import { build } from 'esbuild'

const EXTERNAL = ['lmdb', 'msgpackr', 'hyperdht', 'pino-pretty', '@cas/dashboard']

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: EXTERNAL,
  // CommonJS dependencies inside an ES module bundle still call require() for Node's built-in modules.
  banner: {
    js: "import { createRequire as __casRequire } from 'node:module'; const require = __casRequire(import.meta.url);",
  },
  // Not minified: stack traces in the logs keep the names and lines of the code they come from.
  minify: false,
  legalComments: 'none',
  logLevel: 'warning',
}

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
