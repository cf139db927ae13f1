// The launcher (C, before Node starts) and joinEarly (in Node) decide alike which commands run
// inside the rootless namespace: one list each, compared here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GLOBAL_VALUE_OPTIONS, NEEDS_NAMESPACE } from '../../../src/rootless/enter.js';

describe('commands that need the rootless namespace', () => {
  it('are the same in the launcher and in joinEarly', () => {
    const source = readFileSync(new URL('../../../native/launcher/skiff.c', import.meta.url), 'utf8');
    const list = /static const char \*const NEEDS_NAMESPACE\[\] = \{([^}]*)\}/.exec(source);
    expect(list).not.toBeNull();
    const launcher = [...list![1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    expect(launcher.length).toBeGreaterThan(10);
    expect([...launcher].sort()).toEqual([...NEEDS_NAMESPACE].sort());
  });

  it('read the same global options that take a value (to find the command word)', () => {
    const source = readFileSync(new URL('../../../native/launcher/skiff.c', import.meta.url), 'utf8');
    const list = /static const char \*const GLOBAL_VALUE_OPTIONS\[\] = \{([^}]*)\}/.exec(source);
    expect(list).not.toBeNull();
    const launcher = [...list![1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    expect([...launcher].sort()).toEqual([...GLOBAL_VALUE_OPTIONS].sort());
  });
});
