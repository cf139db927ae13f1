import { defineConfig } from 'vitest/config';

const env = { SKIFF_NATIVE_ADDON: new URL('./native/build/skiff_native.node', import.meta.url).pathname };

// Two projects: unit tests (test/unit, and test/native: skiff-monitor driven with a fake runtime)
// start nothing (no registry, no test user); system tests share loopback registries and an
// unprivileged user made once per run by the global set-up, one file per fork, files in parallel.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    env,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/native/**/*.test.ts'] } },
      { extends: true, test: { name: 'system', include: ['test/system/**/*.test.ts'], globalSetup: ['test/helpers/global-setup.ts'] } },
    ],
  },
});
