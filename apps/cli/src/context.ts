import type { ApiClient } from '@cas/api/client'
import { Output } from './output.js'

/** Options every command accepts (before or after the command name). */
export interface GlobalOptions {
  api?: string
  home?: string
  json?: boolean
  quiet?: boolean
}

/** What a command gets: where to write, and a way to reach the node. */
export interface CommandContext {
  out: Output
  env: NodeJS.ProcessEnv
  globals: GlobalOptions
  client(): Promise<ApiClient>
}

export function createContext(globals: GlobalOptions, env: NodeJS.ProcessEnv = process.env): CommandContext {
  return {
    out: new Output({ json: globals.json === true, quiet: globals.quiet === true, env }),
    env,
    globals,
    // Loaded on first use so that `cas --help` and `cas --version` never load zod or node:http.
    client: async () => {
      const [{ ApiClient }, { resolveConnection }] = await Promise.all([
        import('@cas/api/client'),
        import('./connection.js'),
      ])
      return new ApiClient(await resolveConnection({ api: globals.api, home: globals.home, env }))
    },
  }
}
