import { describe, expect, it } from 'vitest';
import { inspectSecrets, parseSecretFlag, parseSecretFlags, secretMounts } from '../../../src/engine/container-secrets.js';

describe('--secret', () => {
  it("reads Podman's forms: a name alone, NAME,opts, source=, env with and without a target", () => {
    expect(parseSecretFlag('tok')).toEqual({ name: 'tok', id: '', type: 'mount', target: '/run/secrets/tok', uid: 0, gid: 0, mode: 0o444 });
    expect(parseSecretFlag('tok,type=mount,target=x/y,uid=5,GID=6,mode=0400')).toMatchObject({ target: '/run/secrets/x/y', uid: 5, gid: 6, mode: 0o400 });
    expect(parseSecretFlag('source=tok,target=/etc/app.key')).toMatchObject({ name: 'tok', target: '/etc/app.key' });
    expect(parseSecretFlag('tok,target=../../etc/k')).toMatchObject({ target: '/etc/k' });
    expect(parseSecretFlag('tok,type=env')).toMatchObject({ type: 'env', target: 'tok' });
    expect(parseSecretFlag('tok,type=env,target=API_KEY')).toMatchObject({ type: 'env', target: 'API_KEY' });
  });

  it('refuses what cannot work, naming the flag', () => {
    for (const bad of [
      'type=env',
      'tok,type=file',
      'tok,type=env,type=mount',
      'tok,uid=-1',
      'tok,gid=x',
      'tok,mode=0999',
      'tok,mode=rw',
      'tok,bogus=1',
      'tok,nokey',
      'tok,type=env,mode=0400',
      'tok,type=env,uid=1',
      'tok,type=env,target=A=B',
      'tok,target=/',
      'tok,target=/run',
      'tok,target=/run/secrets',
      'tok,target=.',
    ])
      expect(() => parseSecretFlag(bad), bad).toThrow(/--secret/);
  });

  it('refuses two secrets at one target, or one inside another', () => {
    expect(() => parseSecretFlags(['a', 'b,target=a'])).toThrow(/target \/run\/secrets\/a/);
    expect(() => parseSecretFlags(['a,target=x', 'b,target=x/y'])).toThrow(/one cannot be inside the other/);
    expect(parseSecretFlags(['a', 'a,target=b', 'a,type=env'])).toHaveLength(3);
  });

  it('mounts /run/secrets and each copy read-only, and shows mount secrets in inspect', () => {
    const secrets = parseSecretFlags(['e,type=env', 'a', 'b,target=/etc/b,mode=0400,uid=3']);
    const mounts = secretMounts('/c/userdata', secrets);
    expect(mounts.map((m) => [m.destination, m.source])).toEqual([
      ['/run/secrets', '/c/userdata/run-secrets'],
      ['/run/secrets/a', '/c/userdata/secrets/1'],
      ['/etc/b', '/c/userdata/secrets/2'],
    ]);
    expect(mounts.every((m) => m.options.includes('ro') && m.options.includes('nosuid'))).toBe(true);
    expect(secretMounts('/c/userdata', parseSecretFlags(['e,type=env']))).toEqual([]);
    expect(inspectSecrets(secrets)).toEqual([
      { Name: 'a', ID: '', UID: 0, GID: 0, Mode: 0o444 },
      { Name: 'b', ID: '', UID: 3, GID: 0, Mode: 0o400 },
    ]);
  });
});
