// Bundles the `cas` command (dist/main.js and everything it imports) into dist/cas.js, the file bin/cas.js runs.
// Why: every `cas` command is a new process, and loading its separate modules (resolving, reading and
// compiling each: the CLI's, @cas/api's, zod's, commander's) took about a third of a small file's `cas put`
// (docs/decisions.md, "The `cas` command runs as one file"). Commands stay loaded on first use: the
// bundle keeps each dynamically imported module's code behind its own initialiser.
// Left outside, resolved from this app's own dependencies at run time: @cas/server, whose data folder
// code (`cas init`, `cas restore`) brings the p2p layer and its native parts (msgpackr).
// Paths the bundle computes from its own place (../package.json, ../bin/cas.js, @cas/test-kit's
// ../../../apps/…) resolve as they did from dist/main.js and packages/test-kit/dist/: same depth.
import { build } from 'esbuild'
import { appBundleOptions } from '../../../scripts/app-bundle-options.mjs'

await build({
  ...appBundleOptions(['@cas/server', '@cas/server/*']),
  entryPoints: [new URL('../dist/main.js', import.meta.url).pathname],
  outfile: new URL('../dist/cas.js', import.meta.url).pathname,
})
