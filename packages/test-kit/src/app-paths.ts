import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/*
 * The kit runs the apps as processes and never imports them (apps are leaves of the workspace): it
 * finds their built entry points in the checkout it sits in. src/ and dist/ are at the same depth,
 * so one relative path serves both.
 */

/** The built daemon: `CAS_NODE_MAIN` if set, else `apps/node/dist/daemon.js` (the daemon in one file). */
export function nodeMainPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CAS_NODE_MAIN) return resolve(env.CAS_NODE_MAIN)
  return fileURLToPath(new URL('../../../apps/node/dist/daemon.js', import.meta.url))
}

/** The `cas` command's launcher: `CAS_CLI_BIN` if set, else `apps/cli/bin/cas.js`. */
export function casBinPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CAS_CLI_BIN) return resolve(env.CAS_CLI_BIN)
  return fileURLToPath(new URL('../../../apps/cli/bin/cas.js', import.meta.url))
}
