// OCI hook files (oci-hooks(5)): both schemas, Podman's matching rules, directory precedence and
// order, and an invalid or oversized file refused by name.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOOK_FILE_MAX, hookMatches, hooksFor, hooksFromDirs, parseHookFile, readHookDirs } from '../../../src/oci/hooks.js';
import { scratchDir } from '../../helpers/scratch.js';

const HOOK = '/bin/true';
const subject = { args: ['/usr/sbin/init', '-x'], annotations: { 'com.example.gpu': 'yes', other: 'x' }, hasBindMounts: false };
const v1 = (when: object, stages = ['poststart']) => parseHookFile(JSON.stringify({ version: '1.0.0', hook: { path: HOOK }, when, stages }), 'h.json');

describe('hook files', () => {
  it('reads schema 1.0.0 and 0.1.0', () => {
    const current = parseHookFile(
      JSON.stringify({
        version: '1.0.0',
        hook: { path: HOOK, args: ['true', '-v'], env: ['A=1'], timeout: 5 },
        when: { always: true },
        stages: ['createRuntime', 'poststop'],
      }),
      'a.json',
    );
    expect(current).toMatchObject({ hook: { path: HOOK, args: ['true', '-v'], env: ['A=1'], timeout: 5 }, stages: ['createRuntime', 'poststop'] });
    const legacy = parseHookFile(JSON.stringify({ hook: HOOK, arguments: ['-v'], stage: ['prestart'], cmd: ['init$'] }), 'b.json');
    expect(legacy).toMatchObject({ hook: { path: HOOK, args: [HOOK, '-v'] }, stages: ['prestart'], when: { or: true } });
  });

  it('refuses an invalid file, naming it', () => {
    const cases: [unknown, string][] = [
      ['{', 'not valid JSON'],
      [{ version: '2.0.0', hook: { path: HOOK }, stages: [] }, 'unrecognized hook version "2.0.0"'],
      [{ version: '1.0.0', hook: {}, when: {}, stages: ['poststart'] }, 'missing required property: hook.path'],
      [{ version: '1.0.0', hook: { path: '/no/such/hook' }, when: { always: true }, stages: ['poststart'] }, 'its hook /no/such/hook does not exist'],
      [{ version: '1.0.0', hook: { path: HOOK }, when: { always: true } }, 'missing required property: stages'],
      [{ version: '1.0.0', hook: { path: HOOK }, when: { always: true }, stages: ['afterwards'] }, 'unknown stage "afterwards"'],
      [{ version: '1.0.0', hook: { path: HOOK }, when: { always: true }, stages: ['precreate'] }, 'the precreate stage is not supported by skiff'],
      [{ version: '1.0.0', hook: { path: HOOK }, when: { commands: ['('] }, stages: ['poststart'] }, 'invalid command "("'],
      [{ version: '1.0.0', hook: { path: HOOK, timeout: -1 }, when: {}, stages: ['poststart'] }, 'hook.timeout must be a whole number'],
      [{ hook: HOOK, stage: ['prestart'], stages: ['prestart'] }, "cannot set both 'stage' and 'stages'"],
    ];
    for (const [doc, why] of cases) {
      const text = typeof doc === 'string' ? doc : JSON.stringify(doc);
      expect(() => parseHookFile(text, '/hooks/x.json'), text).toThrow(`hook file /hooks/x.json: ${why}`);
    }
  });

  it('refuses a file over the bound', () => {
    const dir = scratchDir('skiff-hooks-');
    writeFileSync(join(dir, 'big.json'), ' '.repeat(HOOK_FILE_MAX + 1));
    expect(() => readHookDirs([dir])).toThrow(`hook file ${join(dir, 'big.json')} is larger than 64 KiB`);
  });
});

describe('matching', () => {
  it('needs every condition of a 1.0.0 file', () => {
    expect(hookMatches(v1({ always: true }), subject)).toBe(true);
    expect(hookMatches(v1({ always: false }), subject)).toBe(false);
    expect(hookMatches(v1({}), subject)).toBe(false);
    expect(hookMatches(v1({ annotations: { '^com\\.example\\.gpu$': '^yes$' } }), subject)).toBe(true);
    expect(hookMatches(v1({ annotations: { '^com\\.example\\.gpu$': '^no$' } }), subject)).toBe(false);
    expect(hookMatches(v1({ always: true, hasBindMounts: true }), subject)).toBe(false);
    expect(hookMatches(v1({ always: true, hasBindMounts: true }), { ...subject, hasBindMounts: true })).toBe(true);
    expect(hookMatches(v1({ commands: ['/init$'] }), subject)).toBe(true);
    expect(hookMatches(v1({ commands: ['^sh$'] }), subject)).toBe(false);
    expect(hookMatches(v1({ always: false, commands: ['/init$'] }), subject)).toBe(false);
  });

  it('needs any one condition of a 0.1.0 file', () => {
    const legacy = parseHookFile(JSON.stringify({ hook: HOOK, stages: ['poststop'], cmds: ['^nomatch$'], annotations: ['^yes$'] }), 'l.json');
    expect(hookMatches(legacy, subject)).toBe(true);
    expect(hookMatches(legacy, { ...subject, annotations: {} })).toBe(false);
  });

  it('puts matching hooks under their stages, prestart as createRuntime, in file-name order', () => {
    const defs = [v1({ always: true }, ['prestart', 'poststop']), v1({ always: false }, ['poststart']), v1({ always: true }, ['createRuntime'])];
    defs[2].hook = { path: '/bin/false' };
    expect(hooksFor(defs, subject)).toEqual({ createRuntime: [{ path: HOOK }, { path: '/bin/false' }], poststop: [{ path: HOOK }] });
    expect(hooksFor([defs[1]], subject)).toBeUndefined();
  });
});

describe('hook directories', () => {
  it('let a later directory replace a file of the same name, and sort by lower-cased name', () => {
    const root = scratchDir('skiff-hookdirs-');
    const [a, b] = [join(root, 'a'), join(root, 'b')];
    mkdirSync(a);
    mkdirSync(b);
    const file = (dir: string, name: string, path: string) =>
      writeFileSync(join(dir, name), JSON.stringify({ version: '1.0.0', hook: { path, args: [name] }, when: { always: true }, stages: ['poststart'] }));
    file(a, '01-same.json', '/bin/false');
    file(b, '01-same.json', HOOK);
    file(a, 'B-upper.json', HOOK);
    file(a, 'a-lower.json', HOOK);
    writeFileSync(join(a, 'README'), 'not a hook');
    const hooks = hooksFromDirs([a, b, join(root, 'missing')], subject);
    expect(hooks?.poststart?.map((h) => [h.path, h.args?.[0]])).toEqual([
      [HOOK, '01-same.json'],
      [HOOK, 'a-lower.json'],
      [HOOK, 'B-upper.json'],
    ]);
  });
});
