import { describe, expect, it } from 'vitest';
import { checkUlimits, neededControllers, ociResources, parseBytes, parseLimits, parseUlimit } from '../../../src/cgroups/limits.js';
import { checkLimits, cgroupsPath, runtimeManagerArgs } from '../../../src/cgroups/manager.js';

describe('parseBytes (Docker units)', () => {
  it('reads binary multiples, decimals and b/ib suffixes', () => {
    expect(parseBytes('100', '--memory')).toBe(100);
    expect(parseBytes('512m', '--memory')).toBe(512 * 1024 ** 2);
    expect(parseBytes('1G', '--memory')).toBe(1024 ** 3);
    expect(parseBytes('1.5g', '--memory')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('64mb', '--memory')).toBe(64 * 1024 ** 2);
    expect(parseBytes('2gib', '--memory')).toBe(2 * 1024 ** 3);
    expect(() => parseBytes('-1', '--memory')).toThrow(/invalid --memory "-1"/);
    expect(() => parseBytes('1x', '--memory')).toThrow(/invalid --memory/);
  });
});

describe('parseLimits', () => {
  it('turns --cpus into a quota per 100 ms period, and keeps what was asked', () => {
    expect(parseLimits({ cpus: '0.5', memory: '64m', pidsLimit: '20' })).toEqual({ cpuPeriod: 100000, cpuQuota: 50000, memory: 64 * 1024 ** 2, pidsLimit: 20 });
    expect(parseLimits({ memory: '1g', memorySwap: '-1' }).memorySwap).toBe(-1);
    expect(parseLimits({ deviceWriteIops: ['/dev/sda:100'] }).deviceWriteIops).toEqual([{ path: '/dev/sda', rate: 100 }]);
    expect(parseLimits({ cgroupConf: ['memory.high=1g'] }).unified).toEqual({ 'memory.high': '1g' });
  });

  it('names the controller each limit needs', () => {
    const need = neededControllers(
      parseLimits({ memory: '64m', cpus: '1', cpusetCpus: '0', pidsLimit: '5', blkioWeight: '100', cgroupConf: ['hugetlb.2MB.max=0'] }),
    );
    expect([...need]).toEqual([
      ['memory', '--memory'],
      ['cpu', '--cpus'],
      ['cpuset', '--cpuset-cpus'],
      ['pids', '--pids-limit'],
      ['io', '--blkio-weight'],
      ['hugetlb', '--cgroup-conf'],
    ]);
  });

  it('makes linux.resources as the runtime takes them', () => {
    const r = parseLimits({ memory: '64m', memoryReservation: '32m', cpuShares: '512', cpusetCpus: '0-1', pidsLimit: '20', deviceReadBps: ['/dev/sda:1m'] });
    expect(ociResources(r, () => [8, 0])).toEqual({
      memory: { limit: 64 * 1024 ** 2, reservation: 32 * 1024 ** 2 },
      cpu: { shares: 512, cpus: '0-1' },
      pids: { limit: 20 },
      blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1024 ** 2 }] },
    });
    expect(ociResources({}, () => [0, 0])).toBeUndefined();
  });
});

describe('checkLimits', () => {
  const systemd = { manager: 'systemd' as const, version: 'v2' as const, controllers: ['cpu', 'memory', 'pids'] };
  it('passes what the manager has, and names the drop-in for what it lacks', () => {
    expect(() => checkLimits(parseLimits({ memory: '64m', cpus: '1', pidsLimit: '9' }), systemd, false)).not.toThrow();
    expect(() => checkLimits(parseLimits({ cpusetCpus: '0' }), systemd, false)).toThrow(
      /--cpuset-cpus needs the cpuset cgroup controller, which systemd does not delegate to your user \(cpu memory pids\): add \/etc\/systemd\/system\/user@.service.d\/delegate.conf/,
    );
    expect(() => checkLimits(parseLimits({ blkioWeight: '100' }), systemd, false)).toThrow(/needs the io cgroup controller/);
  });

  it('refuses every limit without a manager, saying why', () => {
    const none = { manager: 'none' as const, version: 'hybrid' as const, controllers: [], why: 'this host has cgroup hybrid', fix: 'boot with x' };
    expect(() => checkLimits(parseLimits({ memory: '64m' }), none, false)).toThrow('--memory cannot be enforced: this host has cgroup hybrid (boot with x)');
    expect(() => checkLimits({}, none, false)).not.toThrow();
  });
});

describe('runtime and spec', () => {
  it("tells each runtime its manager, and names systemd's scope", () => {
    expect(runtimeManagerArgs('crun', 'systemd')).toEqual(['--cgroup-manager=systemd']);
    expect(runtimeManagerArgs('crun', 'disabled')).toEqual(['--cgroup-manager=disabled']);
    expect(runtimeManagerArgs('runc', 'systemd')).toEqual(['--systemd-cgroup']);
    expect(runtimeManagerArgs('runc', 'none')).toEqual([]);
    expect(cgroupsPath('systemd', 'abc')).toBe('user.slice:skiff:abc');
    expect(cgroupsPath('systemd', 'abc', 'work.slice')).toBe('work.slice:skiff:abc');
    expect(cgroupsPath('none', 'abc')).toBeUndefined();
    expect(cgroupsPath('cgroupfs', 'abc', '/user.slice/u.service')).toBe('/user.slice/u.service/skiff-abc');
  });

  it("reads --ulimit and keeps a hard limit within the user's", () => {
    expect(parseUlimit('nofile=1024:2048')).toEqual({ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 });
    expect(parseUlimit('core=-1')).toEqual({ type: 'RLIMIT_CORE', soft: -1, hard: -1 });
    const limits =
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 4096                 files\nMax core file size        0                    unlimited            bytes\n';
    expect(() => checkUlimits([parseUlimit('nofile=2048:4096'), parseUlimit('core=-1')], limits)).not.toThrow();
    expect(() => checkUlimits([parseUlimit('nofile=-1')], limits)).toThrow(/the hard limit unlimited is above yours \(4096\)/);
  });
});

describe('--cpu-rt-* and --blkio-weight-device', () => {
  it('cgroup v2: the realtime limits are warned of and left out, as Podman; v1 keeps them (needing the cpu controller)', async () => {
    const { log } = await import('../../../src/util/log.js');
    const warned: string[] = [];
    const original = log.warn;
    log.warn = (m: string) => void warned.push(m);
    try {
      expect(parseLimits({ cpuRtPeriod: '1000000', cpuRtRuntime: '950000' }, true)).toEqual({});
    } finally {
      log.warn = original;
    }
    expect(warned).toEqual([
      '--cpu-rt-period: realtime period not supported on cgroups V2 systems: ignored',
      '--cpu-rt-runtime: realtime runtime not supported on cgroups V2 systems: ignored',
    ]);
    const v1 = parseLimits({ cpuRtPeriod: '1000000' }, false);
    expect(v1).toEqual({ cpuRtPeriod: 1000000 });
    expect(neededControllers(v1).get('cpu')).toBe('--cpu-rt-period');
    expect(() => parseLimits({ cpuRtRuntime: 'x' }, true)).toThrow(/invalid --cpu-rt-runtime "x"/);
  });

  it('--blkio-weight-device becomes blockIO.weightDevice (io.bfq.weight_device) and needs the io controller', () => {
    const r = parseLimits({ blkioWeightDevice: ['/dev/sda:200', '/dev/sdb:0'] }, true);
    expect(r.blkioWeightDevice).toEqual([
      { path: '/dev/sda', weight: 200 },
      { path: '/dev/sdb', weight: 0 },
    ]);
    expect(neededControllers(r).get('io')).toBe('--blkio-weight-device');
    const device = (path: string): [number, number] => (path === '/dev/sda' ? [8, 0] : [8, 16]);
    expect(ociResources(r, device)).toEqual({
      blockIO: {
        weightDevice: [
          { major: 8, minor: 0, weight: 200 },
          { major: 8, minor: 16, weight: 0 },
        ],
      },
    });
    expect(() => parseLimits({ blkioWeightDevice: ['/dev/sda:9'] }, true)).toThrow(/the weight is 0 or from 10 to 1000/);
    expect(() => parseLimits({ blkioWeightDevice: ['/dev/sda:1001'] }, true)).toThrow(/from 0 to 1000/);
    expect(() => parseLimits({ blkioWeightDevice: ['sda'] }, true)).toThrow(/use DEVICE-PATH:WEIGHT/);
  });
});
