// containers.conf's [containers] under the create/run flags: each default fills in only what the
// flags leave out.
import { describe, expect, it } from 'vitest';
import { defaultConfig, type SkiffConfig } from '../../../src/config/config.js';
import type { CreateOptions } from '../../../src/engine/container-config.js';
import { withContainerDefaults } from '../../../src/engine/container-defaults.js';

const base: CreateOptions = { image: 'x', command: [] };
const apply = (containers: SkiffConfig['containers'], options: Partial<CreateOptions> = {}, over: Partial<SkiffConfig> = {}, pids = true) =>
  withContainerDefaults(
    { ...base, ...options },
    { config: { ...defaultConfig(), containers, ...over }, pidsLimitWorks: () => pids, namedNetwork: (n) => n === 'podman' },
  );

describe('withContainerDefaults', () => {
  it('fills in what the flags leave out, and only that', () => {
    const d = { dnsServers: ['192.0.2.1'], tz: 'UTC', umask: '0077', shmSize: '128m', userns: 'keep-id', init: true, initPath: '/usr/bin/tini' };
    expect(apply(d)).toMatchObject({ dns: ['192.0.2.1'], tz: 'UTC', umask: '0077', shmSize: '128m', userns: 'keep-id', init: true, initPath: '/usr/bin/tini' });
    expect(apply(d, { dns: ['192.0.2.9'], tz: 'Europe/Paris', userns: 'host' })).toMatchObject({ dns: ['192.0.2.9'], tz: 'Europe/Paris', userns: 'host' });
  });

  it('merges ulimits by type and puts log_size_max under --log-opt max-size', () => {
    const d = { ulimits: ['nofile=100:200', 'nproc=50'], logSizeMax: 2048 };
    expect(apply(d, { ulimit: ['nofile=10:20'] })).toMatchObject({ ulimit: ['nproc=50', 'nofile=10:20'], logOpts: ['max-size=2048'] });
    expect(apply(d, { logOpts: ['max-size=1k', 'tag=t'] }).logOpts).toEqual(['max-size=1k', 'tag=t']);
  });

  it('applies pids_limit only where a cgroup can hold it', () => {
    expect(apply({ pidsLimit: 2048 }).pidsLimit).toBe('2048');
    expect(apply({ pidsLimit: 2048 }, {}, {}, false).pidsLimit).toBeUndefined();
    expect(apply({ pidsLimit: 2048 }, { pidsLimit: '10' }).pidsLimit).toBe('10');
  });

  it('takes netns as the default network mode; bridge is network.default_network when it exists', () => {
    expect(apply({ netns: 'none' }).network).toBe('none');
    expect(apply({ netns: 'none' }, { network: 'host' }).network).toBe('host');
    expect(apply({ netns: 'private' }).network).toBeUndefined();
    // Podman's own default network, podman: skiff's default network (create makes it on first use).
    expect(apply({ netns: 'bridge' }).network).toBe('bridge');
    expect(apply({ netns: 'bridge' }, {}, { network: { backend: 'auto', defaultNetwork: 'podman' } }).network).toBe('bridge');
    expect(apply({ netns: 'bridge' }, {}, { network: { backend: 'auto', defaultNetwork: 'other' } }).network).toBeUndefined();
  });

  it('passes env, capabilities and the hosts base on; a runtime name goes through [engine.runtimes]', () => {
    const out = apply({ env: ['A=1', 'B=two'], capabilities: ['CAP_CHOWN'], baseHostsFile: '/etc/hostname' });
    expect(out).toMatchObject({ defaultEnv: ['A=1', 'B=two'], defaultCapabilities: ['CAP_CHOWN'], baseHostsFile: '/etc/hostname' });
    expect(() => apply({ baseHostsFile: '/nonexistent/hosts' })).toThrow('base_hosts_file /nonexistent/hosts does not exist');
    const runtimes = { ...defaultConfig().engine, runtimes: { mine: ['/nonexistent/x', '/bin/sh'] } };
    expect(apply({}, { runtime: 'mine' }, { engine: runtimes }).runtime).toBe('/bin/sh');
    expect(apply({}, { runtime: 'runc' }, { engine: runtimes }).runtime).toBe('runc');
  });
});
