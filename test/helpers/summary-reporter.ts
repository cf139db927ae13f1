// Prints one plain closing line, "tests: N passed, N failed, N skipped", that any CI log reader
// understands; with STRICT=1 (CI) a skipped test fails the run, since a skip is not a pass.
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of modules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) failed++;
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    if (process.env.STRICT === '1' && skipped > 0) {
      process.stdout.write(`STRICT=1: ${skipped} skipped test(s) count as failures\n`);
      process.exitCode = 1;
    }
  }
}
