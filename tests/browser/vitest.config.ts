import { defineConfig, mergeConfig } from 'vitest/config'
import { sharedConfig } from '../../vitest.shared.js'

// A cluster of node processes and a browser per file: one file at a time on the 2-core CI machine.
export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      globalSetup: ['../../vitest.build-first.ts'],
      fileParallelism: false,
      testTimeout: 180_000,
      hookTimeout: 120_000,
    },
  }),
)
