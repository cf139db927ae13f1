// The policy's scope lookup (most specific docker scope, transport default, global default) and
// registries.d parsing, without a registry.
import { describe, expect, it } from 'vitest';
import { dockerScopes, requirementsFor } from '../../../src/image/policy.js';
import { parseRegistriesD } from '../../../src/image/signatures.js';

describe('policy scopes', () => {
  it('lists scopes from the most specific to the host wildcards', () => {
    expect(dockerScopes('reg.example.com:5000/a/b', 'v1')).toEqual([
      'reg.example.com:5000/a/b:v1',
      'reg.example.com:5000/a/b',
      'reg.example.com:5000/a',
      'reg.example.com:5000',
      '*.example.com',
      '*.com',
    ]);
    expect(dockerScopes('r.io/x', 'sha256:ab')[0]).toBe('r.io/x@sha256:ab');
  });

  it('picks the most specific scope, then the transport default, then the global default', () => {
    const policy = {
      default: [{ type: 'reject' }],
      transports: { docker: { 'r.io/ns': [{ type: 'insecureAcceptAnything' }], '': [{ type: 'signedBy' }] } },
    };
    expect(requirementsFor(policy, 'r.io/ns/img', 'latest').scope).toBe('docker:r.io/ns');
    expect(requirementsFor(policy, 'other.io/img', 'latest').scope).toBe('docker (transport default)');
    expect(requirementsFor({ default: [{ type: 'reject' }] }, 'r.io/ns/img').scope).toBe('default');
  });
});

describe('registries.d', () => {
  it('reads default-docker and per-namespace lookaside URLs', () => {
    const parsed = parseRegistriesD(
      '# comment\ndefault-docker:\n  lookaside: file:///var/sigs\ndocker:\n  "r.io/ns":\n    lookaside: https://sigs.example/x  # trailing\n    lookaside-staging: file:///tmp/s\n',
    );
    expect(parsed.defaultDocker).toEqual({ lookaside: 'file:///var/sigs' });
    expect(parsed.docker['r.io/ns']).toEqual({ lookaside: 'https://sigs.example/x', 'lookaside-staging': 'file:///tmp/s' });
  });
});
