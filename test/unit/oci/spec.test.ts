// --systemd in the runtime spec: the tmpfs an init expects and (cgroup v2) a writable cgroup.
import { describe, expect, it } from 'vitest';
import { generateSpec, type Mount, type SpecInput } from '../../../src/oci/spec.js';

const input = (more: Partial<SpecInput>): SpecInput => ({
  hostname: 'h',
  rootfs: '/r',
  args: ['/sbin/init'],
  env: [],
  cwd: '/',
  user: { uid: 0, gid: 0, additionalGids: [], home: '/root' },
  terminal: false,
  capAdd: [],
  capDrop: [],
  privileged: false,
  readOnly: false,
  noNewPrivileges: false,
  seccomp: 'unconfined',
  tmpfs: [],
  network: 'private',
  etcFiles: {},
  cgroupV2: true,
  singleId: false,
  annotations: {},
  ...more,
});
const mounts = (spec: Record<string, unknown>) => spec.mounts as Mount[];

describe('generateSpec --systemd', () => {
  it("mounts tmpfs on /run, /run/lock, /tmp, /var/log/journal (with the image's files) and the cgroup read-write", () => {
    const spec = mounts(generateSpec(input({ systemd: true })));
    for (const d of ['/run', '/run/lock', '/tmp', '/var/log/journal'])
      expect(spec.find((m) => m.destination === d)).toEqual({
        destination: d,
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['rw', 'rprivate', 'nosuid', 'nodev', 'tmpcopyup'],
      });
    expect(spec.find((m) => m.destination === '/sys/fs/cgroup')?.options).toEqual(['private', 'rw']);
    // /run before what is mounted inside it.
    const at = (d: string) => spec.findIndex((m) => m.destination === d);
    expect(at('/run')).toBeLessThan(at('/run/lock'));
  });

  it("leaves a mount of the user's own in place, and a container without --systemd as it was", () => {
    const own = mounts(generateSpec(input({ systemd: true, tmpfs: ['/tmp:size=1m'] }))).filter((m) => m.destination === '/tmp');
    expect(own).toHaveLength(1);
    expect(own[0]!.options).toContain('size=1m');
    const plain = mounts(generateSpec(input({})));
    expect(plain.some((m) => m.destination === '/var/log/journal')).toBe(false);
    expect(plain.find((m) => m.destination === '/sys/fs/cgroup')?.options).toContain('ro');
    expect(mounts(generateSpec(input({ systemd: true, hostCgroupns: true }))).find((m) => m.destination === '/sys/fs/cgroup')).toEqual({
      destination: '/sys/fs/cgroup',
      type: 'bind',
      source: '/sys/fs/cgroup',
      options: ['bind', 'private', 'rw'],
    });
  });
});
