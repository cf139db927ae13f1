import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // System tests share one loopback registry and one unprivileged user per file; files run in parallel.
    pool: 'forks',
    globalSetup: ['test/helpers/global-setup.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    env: { SKIFF_NATIVE_ADDON: new URL('./native/build/skiff_native.node', import.meta.url).pathname },
  },
});
