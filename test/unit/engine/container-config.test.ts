// Docker's rules for a container's config: entrypoint/cmd, env precedence, restart policies, sizes.
import { describe, expect, it } from 'vitest';
import { buildContainerConfig, expandEnv, mergeEnv, parseRestartPolicy, parseSize } from '../../../src/engine/container-config.js';
import { parseSignal } from '../../../src/engine/containers.js';
import { applyChanges } from '../../../src/image/commit.js';
import type { ImageConfig } from '../../../src/image-format.js';

const image: ImageConfig = {
  rootfs: { type: 'layers', diff_ids: [] },
  config: { Entrypoint: ['/entry'], Cmd: ['default'], Env: ['PATH=/img/bin', 'A=image'], WorkingDir: '/w', User: 'app', StopSignal: 'SIGQUIT' },
};
const build = (over: Record<string, unknown> = {}) => buildContainerConfig({ image: 'x', command: [], ...over }, image, 'a'.repeat(64));

describe('entrypoint and cmd', () => {
  it("keeps the image's, replaces Cmd with arguments, and --entrypoint drops the image's Cmd", () => {
    expect([build().entrypoint, build().cmd]).toEqual([['/entry'], ['default']]);
    expect(build({ command: ['x', 'y'] }).cmd).toEqual(['x', 'y']);
    expect([build({ entrypoint: '/other' }).entrypoint, build({ entrypoint: '/other' }).cmd]).toEqual([['/other'], []]);
    expect(build({ entrypoint: '["sh","-c"]' }).entrypoint).toEqual(['sh', '-c']);
    expect(() => build({ entrypoint: '' })).toThrow(/no command specified/);
  });

  it('takes workdir, user, stop signal from the image unless given', () => {
    expect([build().workdir, build().user, build().stopSignal]).toEqual(['/w', 'app', 'SIGQUIT']);
    expect(build({ workdir: '/x', user: '0' }).workdir).toBe('/x');
    expect(() => build({ workdir: 'relative' })).toThrow(/absolute path/);
  });
});

describe('environment', () => {
  it('lets -e override the env file, which overrides the image', () => {
    const env = build({ env: ['A=flag'] }).env;
    expect(env).toContain('A=flag');
    expect(env).toContain('PATH=/img/bin');
    expect(env).toContain(`HOSTNAME=${'a'.repeat(12)}`);
    expect(mergeEnv(['A=1', 'B=2'], ['A=3'])).toEqual(['A=3', 'B=2']);
  });

  it("takes a bare KEY from skiff's environment, and rejects nonsense", () => {
    process.env.SKIFF_UNIT_VALUE = 'v';
    expect(build({ env: ['SKIFF_UNIT_VALUE', 'SKIFF_UNSET_NAME'] }).env).toContain('SKIFF_UNIT_VALUE=v');
    expect(build({ env: ['SKIFF_UNSET_NAME'] }).env.some((e) => e.startsWith('SKIFF_UNSET_NAME'))).toBe(false);
    expect(() => build({ env: ['not valid'] })).toThrow(/invalid environment variable/);
  });
});

describe('restart policies, signals, sizes, --change', () => {
  it('parses restart policies', () => {
    expect(parseRestartPolicy(undefined)).toEqual({ name: 'no', maxRetries: 0 });
    expect(parseRestartPolicy('on-failure:3')).toEqual({ name: 'on-failure', maxRetries: 3 });
    expect(parseRestartPolicy('unless-stopped')).toEqual({ name: 'unless-stopped', maxRetries: 0 });
    expect(() => parseRestartPolicy('sometimes')).toThrow(/invalid restart policy/);
    expect(() => parseRestartPolicy('always:2')).toThrow(/invalid restart policy/);
    expect(() => build({ rm: true, restart: 'always' })).toThrow(/conflicts/);
  });

  it('parses signals by name and number', () => {
    expect(parseSignal('term')).toEqual({ name: 'SIGTERM', number: 15 });
    expect(parseSignal('9')).toEqual({ name: 'SIGKILL', number: 9 });
    expect(() => parseSignal('SIGNOPE')).toThrow(/invalid signal/);
  });

  it('parses sizes', () => {
    expect(parseSize('10mb', 'x')).toBe(10_000_000);
    expect(parseSize('512k', 'x')).toBe(512_000);
    expect(parseSize('-1', 'x')).toBe(-1);
    expect(() => parseSize('huge', 'x')).toThrow(/invalid x/);
  });

  it('applies --change instructions', () => {
    const config: NonNullable<ImageConfig['config']> = { Env: ['A=1'] };
    applyChanges(config, ['CMD ["a","b"]', 'ENTRYPOINT run me', 'ENV A=2 B="x y"', 'LABEL k=v', 'EXPOSE 80', 'WORKDIR /srv', 'USER nobody']);
    expect(config).toMatchObject({
      Cmd: ['a', 'b'],
      Entrypoint: ['/bin/sh', '-c', 'run me'],
      Env: ['A=2', 'B=x y'],
      Labels: { k: 'v' },
      ExposedPorts: { '80/tcp': {} },
      WorkingDir: '/srv',
      User: 'nobody',
    });
    expect(() => applyChanges(config, ['FROM x'])).toThrow(/not one of/);
  });
});

describe('environment entries', () => {
  it('refuses environment entries without a name, or with a blank in it', () => {
    expect(expandEnv('A=')).toEqual(['A=']);
    expect(expandEnv('A==b')).toEqual(['A==b']);
    expect(expandEnv('a.b-c=1')).toEqual(['a.b-c=1']);
    expect(() => expandEnv('=x')).toThrow('invalid environment variable "=x": the name before "=" is empty');
    expect(() => expandEnv('=')).toThrow(/the name before "=" is empty/);
    expect(() => expandEnv(' A=x')).toThrow('invalid environment variable " A=x": the name contains a blank');
    expect(() => expandEnv('A\tB=x')).toThrow(/contains a blank/);
    expect(() => build({ env: ['=x'] })).toThrow(/name before "=" is empty/);
  });
});

describe('--userns', () => {
  it('records the mode asked for (none for host) and refuses a bad one in one line', () => {
    const base = { image: 'x', command: ['sh'] };
    expect(buildContainerConfig({ ...base, userns: 'host' }, image, 'id').userns).toBeUndefined();
    expect(buildContainerConfig({ ...base, userns: 'keep-id:uid=5' }, image, 'id').userns).toBe('keep-id:uid=5');
    expect(buildContainerConfig({ ...base, uidmap: ['0:1:5'] }, image, 'id').userns).toBe('private');
    expect(() => buildContainerConfig({ ...base, userns: 'bogus' }, image, 'id')).toThrow(/invalid --userns "bogus"/);
  });
});

describe('published ports on a named network', () => {
  const onNamed = (hostIp: string) =>
    buildContainerConfig({ image: 'x', command: [], network: 'podman' }, image, 'a'.repeat(64), {
      network: 'bridge',
      ports: [{ hostIp, hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
      named: (name) => name === 'podman',
    });

  it('takes IPv4 host addresses and refuses an IPv6 one (the monitor would listen on nothing)', () => {
    expect(onNamed('127.0.0.1').ports).toEqual([{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
    expect(() => onNamed('::1')).toThrow(/-p \[::1\]:8080:80: .* IPv4 host addresses only/);
  });
});
