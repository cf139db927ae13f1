import { describe, expect, it } from 'vitest';
import { parseChallenge, parseCredsFlag } from '../../../../src/image/registry/auth.js';

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
