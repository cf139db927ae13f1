// The decision after a container's process ends, for every policy × exit code × stopped by the
// user or not × restarts so far, against the rule as Docker documents it.
import { describe, expect, it } from 'vitest';
import { afterExit, type Ending } from '../../../src/engine/exit-policy.js';
import type { RestartPolicy } from '../../../src/state/containers.js';

const policies: RestartPolicy[] = [
  { name: 'no', maxRetries: 0 },
  { name: 'always', maxRetries: 0 },
  { name: 'unless-stopped', maxRetries: 0 },
  { name: 'on-failure', maxRetries: 0 },
  { name: 'on-failure', maxRetries: 2 },
];

// The rule, written out independently of the implementation.
const expected = (policy: RestartPolicy, autoRemove: boolean, e: Ending): string => {
  if (autoRemove) return 'remove';
  if (e.stoppedByUser || e.startFailed) return 'stay';
  if (policy.name === 'always' || policy.name === 'unless-stopped') return 'restart';
  if (policy.name === 'on-failure') {
    const failed = e.exitCode !== undefined && e.exitCode !== 0;
    const retriesLeft = policy.maxRetries === 0 || e.restartCount < policy.maxRetries;
    return failed && retriesLeft ? 'restart' : 'stay';
  }
  return 'stay';
};

describe('after a container exits', () => {
  it('decides as the restart policies say, in every combination', () => {
    let cases = 0;
    for (const policy of policies)
      for (const autoRemove of [false, true])
        for (const exitCode of [0, 1, 137, 143, undefined])
          for (const stoppedByUser of [false, true])
            for (const startFailed of [false, true])
              for (const restartCount of [0, 1, 2, 3]) {
                const ending = { exitCode, stoppedByUser, startFailed, restartCount };
                expect(afterExit(policy, autoRemove, ending), JSON.stringify({ policy, autoRemove, ending })).toBe(expected(policy, autoRemove, ending));
                cases++;
              }
    expect(cases).toBe(5 * 2 * 5 * 2 * 2 * 4);
  });

  it('spells out the cases people ask about', () => {
    const ending = (over: Partial<Ending>): Ending => ({ exitCode: 0, stoppedByUser: false, startFailed: false, restartCount: 0, ...over });
    expect(afterExit({ name: 'on-failure', maxRetries: 3 }, false, ending({ exitCode: 1, restartCount: 3 }))).toBe('stay');
    expect(afterExit({ name: 'on-failure', maxRetries: 3 }, false, ending({ exitCode: 1, restartCount: 2 }))).toBe('restart');
    expect(afterExit({ name: 'on-failure', maxRetries: 0 }, false, ending({ exitCode: 0 }))).toBe('stay');
    expect(afterExit({ name: 'always', maxRetries: 0 }, false, ending({ exitCode: 0 }))).toBe('restart');
    expect(afterExit({ name: 'always', maxRetries: 0 }, false, ending({ stoppedByUser: true }))).toBe('stay');
    expect(afterExit({ name: 'unless-stopped', maxRetries: 0 }, false, ending({ exitCode: 137, stoppedByUser: true }))).toBe('stay');
    expect(afterExit({ name: 'always', maxRetries: 0 }, true, ending({}))).toBe('remove');
  });
});
