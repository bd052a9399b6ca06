import { defineConfig, mergeConfig } from 'vitest/config'
import { sharedConfig } from '../../vitest.shared.js'

// Whole clusters of node processes per file: one file at a time keeps the 2-core CI machine honest.
export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      globalSetup: ['../../vitest.build-first.ts'],
      fileParallelism: false,
      testTimeout: 180_000,
      hookTimeout: 60_000,
    },
  }),
)
