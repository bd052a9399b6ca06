// esbuild options shared by the apps' one-file bundles (apps/node/scripts/bundle.mjs, apps/cli/scripts/bundle.mjs).
// Each app imports esbuild itself (a dev dependency of the app); this file only holds what the two have in common.

/** Options for bundling an app's `dist/main.js` and what it imports into one ES module for Node 20. */
export function appBundleOptions(external) {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external,
    // CommonJS dependencies inside an ES module bundle still call require() for Node's built-in modules.
    banner: {
      js: "import { createRequire as __casRequire } from 'node:module'; const require = __casRequire(import.meta.url);",
    },
    // Not minified: stack traces keep the names and lines of the code they come from.
    minify: false,
    legalComments: 'none',
    logLevel: 'warning',
  }
}
