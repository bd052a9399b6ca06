import { defineConfig } from 'vitest/config'

// Tests run against sources: the `@cas/source` export condition points every
// workspace import at `src/*.ts`. Suites that start built code (the apps, the
// seal thread's worker file) build it first (vitest.build-first.ts).
export const sharedConfig = defineConfig({
  resolve: { conditions: ['@cas/source'] },
  ssr: { resolve: { conditions: ['@cas/source'] } },
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
})
