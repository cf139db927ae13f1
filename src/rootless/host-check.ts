// Probes of the host for `skiff system check`: each returns one line's worth of verdict and fix.
import { messageOf } from '../errors.js';
import { namespaceIds } from '../util/idmap.js';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostCgroupSetup, type CgroupSetup } from '../cgroups/manager.js';
import type { CgroupManagerSetting } from '../config/config.js';
import { findHelperBinary, runHelper } from '../util/exec.js';
import { currentUser, parseSubidFile, rangesOverlap, readSubids } from './subid.js';

export interface CheckResult {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  /** A failed required check makes `system check` exit non-zero. */
  required: boolean;
  detail: string;
  fix?: string;
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};

const helperPrivileged = (name: string): CheckResult => {
  const path = findHelperBinary(name);
  if (!path) return { name, status: 'fail', required: true, detail: 'not installed', fix: 'apt-get install uidmap' };
  const st = statSync(path);
  const setuid = (st.mode & 0o4000) !== 0 && st.uid === 0;
  if (setuid) return { name, status: 'ok', required: true, detail: `${path} (setuid root)` };
  return {
    name,
    status: 'warn',
    required: true,
    detail: `${path} is not setuid root; it needs file capabilities (getcap ${path} should show cap_setuid/cap_setgid)`,
    fix: `setcap cap_setuid+ep ${path} (or reinstall uidmap)`,
  };
};

const subidCheck = (file: '/etc/subuid' | '/etc/subgid'): CheckResult => {
  const user = currentUser();
  const ranges = readSubids(file, user);
  const name = file.slice(5);
  if (ranges.length === 0) {
    return {
      name,
      status: 'fail',
      required: true,
      detail: `no range for ${user.name}`,
      fix: `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user.name} (or storage.userns = "single" in skiff.conf)`,
    };
  }
  const total = ranges.reduce((n, r) => n + r.count, 0);
  const text = read(file) ?? '';
  const others = text.split('\n').filter((l) => l && !l.startsWith('#') && !l.startsWith(`${user.name}:`) && !l.startsWith(`${user.uid}:`));
  const overlapping = others.filter((line) => {
    const [owner] = line.split(':');
    return parseSubidFile(line, owner, -1).some((o) => ranges.some((r) => rangesOverlap(o, r)));
  });
  if (overlapping.length)
    return {
      name,
      status: 'warn',
      required: true,
      detail: `${total} ids, overlapping ${overlapping.map((l) => l.split(':')[0]).join(', ')}`,
      fix: `give each user a disjoint range in ${file}`,
    };
  if (total < 65536)
    return { name, status: 'warn', required: true, detail: `${total} ids (images may use uids up to 65535)`, fix: `grow the range in ${file} to 65536 ids` };
  return { name, status: 'ok', required: true, detail: ranges.map((r) => `${r.start}-${r.start + r.count - 1}`).join(', ') };
};

const userns = async (): Promise<CheckResult> => {
  const name = 'user namespaces';
  if (read('/proc/sys/kernel/unprivileged_userns_clone') === '0')
    return {
      name,
      status: 'fail',
      required: true,
      detail: 'disabled by kernel.unprivileged_userns_clone=0',
      fix: 'sysctl -w kernel.unprivileged_userns_clone=1',
    };
  if (read('/proc/sys/user/max_user_namespaces') === '0')
    return { name, status: 'fail', required: true, detail: 'user.max_user_namespaces=0', fix: 'sysctl -w user.max_user_namespaces=15000' };
  const apparmor = read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1';
  const unshare = findHelperBinary('unshare');
  if (!unshare) return { name, status: 'fail', required: true, detail: 'unshare (util-linux) not installed', fix: 'apt-get install util-linux' };
  try {
    // Mounting a tmpfs fails where AppArmor strips capabilities from new namespaces (Ubuntu 23.10+).
    await runHelper(unshare, ['--user', '--map-root-user', '--mount', 'sh', '-c', 'mount -t tmpfs none /mnt 2>/dev/null || mount -t tmpfs none /tmp']);
    return { name, status: 'ok', required: true, detail: apparmor ? 'allowed (AppArmor restriction on, but skiff may use them)' : 'allowed' };
  } catch (error) {
    if (apparmor) {
      return {
        name,
        status: 'fail',
        required: true,
        detail: 'restricted by AppArmor (kernel.apparmor_restrict_unprivileged_userns=1)',
        fix: 'add an AppArmor profile granting "userns," to node, or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0',
      };
    }
    return { name, status: 'fail', required: true, detail: `cannot create one: ${(error as Error).message}` };
  }
};

const overlay = async (): Promise<CheckResult> => {
  const name = 'native overlay';
  const unshare = findHelperBinary('unshare');
  if (!unshare) return { name, status: 'warn', required: false, detail: 'not probed (no unshare)' };
  const dir = mkdtempSync(join(tmpdir(), 'skiff-ovl-'));
  try {
    await runHelper(unshare, [
      '--user',
      '--map-root-user',
      '--mount',
      'sh',
      '-c',
      'cd "$1" && mkdir l u w m && mount -t overlay overlay -o lowerdir=l,upperdir=u,workdir=w,userxattr m',
      'sh',
      dir,
    ]);
    return { name, status: 'ok', required: false, detail: 'kernel overlayfs works in a user namespace' };
  } catch {
    return {
      name,
      status: 'warn',
      required: false,
      detail: 'not available in a user namespace (kernel < 5.11?); fuse-overlayfs or copies will be used',
      fix: 'apt-get install fuse-overlayfs',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

const device = (path: string, why: string, fix: string): CheckResult => {
  if (!existsSync(path)) return { name: path, status: 'warn', required: false, detail: `missing (${why})`, fix };
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return { name: path, status: 'ok', required: false, detail: 'read-write' };
  } catch {
    return { name: path, status: 'warn', required: false, detail: `not read-write for you (${why})`, fix: `chmod 0666 ${path} (distributions ship it 0666)` };
  }
};

const oneOf = (name: string, binaries: string[], required: boolean, fix: string): CheckResult => {
  const found = binaries.map((b) => [b, findHelperBinary(b)] as const).filter(([, p]) => p);
  if (found.length === 0) return { name, status: required ? 'fail' : 'warn', required, detail: `none of ${binaries.join(', ')} installed`, fix };
  return { name, status: 'ok', required, detail: found.map(([b, p]) => `${b} (${p})`).join(', ') };
};

// The cgroup manager containers get (see cgroups/manager.ts) and the controllers it has.
const cgroups = async (setting: CgroupManagerSetting): Promise<CheckResult[]> => {
  let setup: CgroupSetup;
  try {
    setup = await hostCgroupSetup(setting, namespaceIds().hostUid);
  } catch (error) {
    return [{ name: 'cgroups', status: 'warn', required: false, detail: messageOf(error) }];
  }
  if (setup.manager === 'none')
    return [
      { name: 'cgroups', status: 'warn', required: false, detail: `manager none: containers run without resource limits (${setup.why})`, fix: setup.fix },
    ];
  const missing = ['memory', 'pids', 'cpu', 'io', 'cpuset'].filter((c) => !setup.controllers.includes(c));
  return [
    {
      name: 'cgroups',
      status: missing.length ? 'warn' : 'ok',
      required: false,
      detail: `cgroup v2, manager ${setup.manager}${setup.parent ? ` (in ${setup.parent}, a unit with Delegate=yes)` : ''}, controllers: ${setup.controllers.join(' ') || 'none'}`,
      fix: missing.length
        ? `for ${missing.map((c) => `--${c === 'io' ? 'device-read-bps' : c === 'cpuset' ? 'cpuset-cpus' : c === 'cpu' ? 'cpus' : c === 'pids' ? 'pids-limit' : c}`).join(', ')}: a drop-in for user@.service with Delegate=cpu cpuset io memory pids`
        : undefined,
    },
  ];
};

const session = (): CheckResult[] => {
  const { uid, name } = currentUser();
  const results: CheckResult[] = [];
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (!xdg)
    results.push({
      name: 'XDG_RUNTIME_DIR',
      status: 'warn',
      required: false,
      detail: `unset; using /tmp/skiff-run-${uid}`,
      fix: 'log in through systemd-logind, or export XDG_RUNTIME_DIR=/run/user/$(id -u)',
    });
  else {
    let st: Stats | undefined;
    try {
      st = statSync(xdg);
    } catch {
      // reported below
    }
    if (!st) results.push({ name: 'XDG_RUNTIME_DIR', status: 'fail', required: true, detail: `${xdg} does not exist`, fix: `mkdir -m 0700 ${xdg}` });
    else if (st.uid !== uid)
      results.push({
        name: 'XDG_RUNTIME_DIR',
        status: 'fail',
        required: true,
        detail: `${xdg} belongs to uid ${st.uid}`,
        fix: 'unset it or point it at a directory of yours',
      });
    else results.push({ name: 'XDG_RUNTIME_DIR', status: 'ok', required: false, detail: xdg });
  }
  const bus = process.env.DBUS_SESSION_BUS_ADDRESS ?? (existsSync(`/run/user/${uid}/bus`) ? `unix:path=/run/user/${uid}/bus` : undefined);
  results.push(
    bus
      ? { name: 'systemd user session', status: 'ok', required: false, detail: bus }
      : {
          name: 'systemd user session',
          status: 'warn',
          required: false,
          detail: 'no session bus: cgroup limits through systemd are unavailable',
          fix: 'log in through systemd-logind, or loginctl enable-linger',
        },
  );
  const linger = existsSync(`/var/lib/systemd/linger/${name}`);
  results.push({
    name: 'linger',
    status: linger ? 'ok' : 'warn',
    required: false,
    detail: linger
      ? 'enabled'
      : 'disabled: containers stop when you log out, and those with --restart always come back only when you log in (skiff-restart.service)',
    fix: linger ? undefined : `loginctl enable-linger ${name}`,
  });
  return results;
};

// Every check, in the order `system check` prints them.
export const checkHost = async (singleUid: boolean, cgroupSetting: CgroupManagerSetting = 'auto'): Promise<CheckResult[]> => {
  const optional = (r: CheckResult): CheckResult => (singleUid ? { ...r, required: false, status: r.status === 'fail' ? 'warn' : r.status } : r);
  const [ns, ovl, cgroupChecks] = await Promise.all([userns(), overlay(), cgroups(cgroupSetting)]);
  return [
    optional(helperPrivileged('newuidmap')),
    optional(helperPrivileged('newgidmap')),
    optional(subidCheck('/etc/subuid')),
    optional(subidCheck('/etc/subgid')),
    ns,
    ovl,
    device('/dev/fuse', 'needed by fuse-overlayfs', 'modprobe fuse; chmod 0666 /dev/fuse'),
    oneOf('fuse-overlayfs', ['fuse-overlayfs'], false, 'apt-get install fuse-overlayfs'),
    device('/dev/net/tun', 'needed by pasta and slirp4netns', 'modprobe tun; chmod 0666 /dev/net/tun'),
    oneOf('network helper', ['pasta', 'slirp4netns'], false, 'apt-get install passt (pasta) or slirp4netns (without one containers get loopback only)'),
    oneOf('named networks helper', ['slirp4netns'], false, 'apt-get install slirp4netns (named networks reach out through it)'),
    oneOf('named networks', ['ip'], false, 'apt-get install iproute2'),
    oneOf('network firewall', ['nft'], false, 'apt-get install nftables (without it named networks have no way out)'),
    oneOf('OCI runtime', ['crun', 'runc'], true, 'apt-get install crun (or runc)'),
    ...cgroupChecks,
    ...session(),
  ];
};
