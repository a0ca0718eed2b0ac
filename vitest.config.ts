import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Envoy-backed tests each start their own Envoy on ephemeral ports; two cores.
    maxWorkers: 2,
  },
});
