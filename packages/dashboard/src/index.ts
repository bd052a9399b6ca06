import { fileURLToPath } from 'node:url'

/**
 * Absolute path of the built dashboard (`www/`: `index.html` and `assets/*`), which the node serves
 * same-origin from its API address. It exists once `pnpm --filter @cas/dashboard build` has run.
 */
export const DASHBOARD_DIR: string = fileURLToPath(new URL('../www/', import.meta.url))
