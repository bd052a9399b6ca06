import { defineConfig, mergeConfig } from 'vitest/config'
import { sharedConfig } from '../../vitest.shared.js'

// Built first: puts seal their chunks on a worker thread, which runs @cas/crypto's dist/seal-worker.js.
export default mergeConfig(
  sharedConfig,
  defineConfig({ test: { globalSetup: ['../../vitest.build-first.ts'] } }),
)
