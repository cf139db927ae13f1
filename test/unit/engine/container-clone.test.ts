// container clone: what of the original's configuration the clone takes, and Podman's clone names.
import { describe, expect, it } from 'vitest';
import { cloneConfig, cloneName } from '../../../src/engine/container-clone.js';
import type { ContainerConfig, ContainerRecord } from '../../../src/state/containers.js';

const ID = 'a'.repeat(64);
const NEW = 'b'.repeat(64);

const original = (config: Partial<ContainerConfig>): ContainerRecord =>
  ({
    id: ID,
    name: 'web',
    config: {
      hostname: ID.slice(0, 12),
      env: ['PATH=/bin', `HOSTNAME=${ID.slice(0, 12)}`, 'KEPT=yes'],
      ...config,
    },
  }) as unknown as ContainerRecord;

describe('cloneConfig', () => {
  it("gives the clone its own hostname, addresses, anonymous volumes and auto ids; the rest is the original's", () => {
    const record = original({
      resources: { memory: 100, cpuShares: 512 },
      namedNetwork: true,
      network: 'net',
      networkIp: '10.89.0.2',
      macAddress: '92:d0:c6:0a:29:33',
      extraNetworks: [{ network: 'other', ip: '10.89.1.2', aliases: ['x'], device: 'eth1' }],
      mounts: [
        { type: 'volume', source: 'named', destination: '/data', readOnly: false, options: [] },
        { type: 'volume', source: 'c'.repeat(64), destination: '/anon', readOnly: false, options: [], anonymous: true },
        { type: 'bind', source: '/srv', destination: '/srv', readOnly: true, options: [], sourceId: '1:2' },
      ],
      pidfile: '/tmp/pid',
      conmonPidfile: '/tmp/mon',
      userns: 'auto',
      idMappings: { uid: [], gid: [] },
    });
    const config = cloneConfig(record, NEW, { memory: 200 });
    expect(config.hostname).toBe(NEW.slice(0, 12));
    expect(config.env).toEqual(['PATH=/bin', `HOSTNAME=${NEW.slice(0, 12)}`, 'KEPT=yes']);
    expect(config.resources).toEqual({ memory: 200, cpuShares: 512 });
    expect(config.networkIp).toBeUndefined();
    expect(config.macAddress).toBeUndefined();
    expect(config.extraNetworks).toEqual(record.config.extraNetworks); // read for its aliases, addresses made anew
    expect(config.mounts).toEqual([
      { type: 'volume', source: 'named', destination: '/data', readOnly: false, options: [] },
      { type: 'volume', source: '', destination: '/anon', readOnly: false, options: [], anonymous: true },
      { type: 'bind', source: '/srv', destination: '/srv', readOnly: true, options: [] },
    ]);
    expect(config.pidfile ?? config.conmonPidfile).toBeUndefined();
    expect(config.idMappings).toBeUndefined();
    // The original's record is left as it was.
    expect(record.config.hostname).toBe(ID.slice(0, 12));
    expect(record.config.mounts?.[1].source).toBe('c'.repeat(64));
  });

  it('keeps a hostname the user gave, and a fixed id mapping', () => {
    const mappings = { uid: [{ inner: 0, outer: 1, count: 10 }], gid: [{ inner: 0, outer: 1, count: 10 }] };
    const config = cloneConfig(original({ hostname: 'given', env: ['HOSTNAME=given'], userns: 'keep-id', idMappings: mappings }), NEW, {});
    expect([config.hostname, config.env, config.idMappings, config.resources]).toEqual(['given', ['HOSTNAME=given'], mappings, undefined]);
  });
});

describe('cloneName', () => {
  it('is NAME-clone, then NAME-clone1, NAME-clone2, ... as Podman names clones', () => {
    const taken = new Set<string>();
    const next = (name: string) => {
      const made = cloneName(name, (n) => taken.has(n));
      taken.add(made);
      return made;
    };
    expect(next('web')).toBe('web-clone');
    expect(next('web')).toBe('web-clone1');
    expect(next('web-clone')).toBe('web-clone2');
    expect(next('web-clone1')).toBe('web-clone3');
    expect(next('db')).toBe('db-clone');
  });
});
