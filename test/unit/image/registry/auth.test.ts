import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lookupCredentials, parseChallenge, parseCredsFlag, storeCredentials } from '../../../../src/image/registry/auth.js';
import { scratchDir } from '../../../helpers/scratch.js';

describe('parseChallenge', () => {
  it('parses a bearer challenge with quoted and escaped values', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
    });
    expect(parseChallenge('Basic realm="say \\"hi\\""')).toEqual({ scheme: 'basic', params: { realm: 'say "hi"' } });
    expect(parseChallenge('Bearer realm=https://x/t, service=s')?.params).toEqual({ realm: 'https://x/t', service: 's' });
  });
  it('parses --creds', () => {
    expect(parseCredsFlag('u:p:with:colons')).toEqual({ username: 'u', password: 'p:with:colons' });
    expect(() => parseCredsFlag('nopassword')).toThrow(/USERNAME:PASSWORD/);
  });
});

describe('auth files', () => {
  it('reads credentials, and refuses a file over 1 MiB or without end, naming the cap', () => {
    const dir = scratchDir('skiff-auth-');
    const file = join(dir, 'auth.json');
    process.env.DOCKER_CONFIG = join(dir, 'docker');
    storeCredentials('r.example', file, { username: 'u', password: 'p' });
    expect(lookupCredentials('r.example', file)).toEqual({ username: 'u', password: 'p' });
    writeFileSync(file, JSON.stringify({ auths: { 'r.example': { auth: Buffer.from('u:p').toString('base64') } }, pad: 'x'.repeat(1024 * 1024) }));
    expect(() => lookupCredentials('r.example', file)).toThrow(
      expect.objectContaining({ code: 'ECONFIG', message: `auth file ${file} is larger than 1 MiB, the limit for it: refusing to read it` }),
    );
    expect(() => storeCredentials('r.example', file, { username: 'u', password: 'p' })).toThrow(/larger than 1 MiB/);
    expect(() => lookupCredentials('r.example', '/dev/zero')).toThrow('auth file /dev/zero is larger than 1 MiB');
    delete process.env.DOCKER_CONFIG;
  });
});
