// Who makes a container's cgroup, and which controllers it has there:
//   systemd   cgroup v2 with a systemd user session: the runtime's systemd driver asks the user's
//             manager for a transient scope (user@UID.service/user.slice/skiff-ID.scope), which
//             gets the controllers systemd delegates to the user (stock 252: cpu memory pids);
//   cgroupfs  cgroup v2 without a session bus, where this process's cgroup is the user's to write
//             (a unit with Delegate=yes): the container's cgroup is made beside it;
//   none      cgroup v1 or hybrid, no delegation, or --cgroups=disabled: containers run without
//             limits, and a flag that asks for one is refused (see checkLimits).
import { accessSync, constants, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { CgroupManagerSetting } from '../config/config.js';
import { CliError } from '../errors.js';
import { findHelperBinary, runHelper } from '../util/exec.js';
import { readTextIfExists as read } from '../util/fs.js';
import { type CgroupVersion, cgroupVersion, delegatedControllers } from './detect.js';
import { neededControllers, type ResourceLimits } from './limits.js';

export type CgroupManager = 'systemd' | 'cgroupfs' | 'none';

export interface CgroupSetup {
  manager: CgroupManager;
  /** cgroupfs in a unit with Delegate=yes: the unit's cgroup, under which containers go. */
  parent?: string;
  version: CgroupVersion;
  /** The controllers a container's cgroup can have. */
  controllers: string[];
  /** Why there are no cgroups (manager none), and what would give them. */
  why?: string;
  fix?: string;
}

const CGROUP_ROOT = '/sys/fs/cgroup';
const DELEGATE_FIX =
  'add /etc/systemd/system/user@.service.d/delegate.conf with "[Service]" and "Delegate=cpu cpuset io memory pids", run systemctl daemon-reload, and log in again';

// The session bus of the user's systemd manager, if there is one.
export const sessionBus = (hostUid: number): string | undefined => {
  if (process.env.DBUS_SESSION_BUS_ADDRESS) return process.env.DBUS_SESSION_BUS_ADDRESS;
  for (const dir of [process.env.XDG_RUNTIME_DIR, `/run/user/${hostUid}`]) if (dir && existsSync(join(dir, 'bus'))) return `unix:path=${join(dir, 'bus')}`;
  return undefined;
};

// A process's cgroup (v2: the "0::" line of /proc/PID/cgroup), as a path under /sys/fs/cgroup:
// this process's, or a running container's init's (for stats, pause and OOM).
export const cgroupOfPid = (pid: number | 'self'): string | undefined => {
  const line = read(`/proc/${pid}/cgroup`)
    ?.split('\n')
    .find((l) => l.startsWith('0::'));
  return line ? join(CGROUP_ROOT, line.slice(3)) : undefined;
};

export const ownCgroup = (): string | undefined => cgroupOfPid('self');

const writable = (path: string): boolean => {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

const controllersOf = (dir: string): string[] => (read(join(dir, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean);

const none = (version: CgroupVersion, why: string, fix?: string): CgroupSetup => ({ manager: 'none', version, controllers: [], why, ...(fix ? { fix } : {}) });

// The manager to use: the one asked for (skiff.conf's engine.cgroup_manager, --cgroup-manager),
// or on `auto` the best this host has. `delegatedUnit`: the cgroup of the systemd unit with
// Delegate=yes that skiff runs in (see delegatedUnitCgroup): its containers stay inside it.
export const cgroupSetup = (setting: CgroupManagerSetting, hostUid: number, delegatedUnit?: string): CgroupSetup => {
  const version = cgroupVersion();
  if (setting === 'none') return none(version, 'cgroups are turned off (cgroup manager none)');
  if (version !== 'v2')
    return none(
      version,
      `this host has cgroup ${version}, where a rootless user gets no cgroup of their own`,
      'boot with systemd.unified_cgroup_hierarchy=1 for cgroup v2',
    );
  if (delegatedUnit && setting !== 'systemd')
    return { manager: 'cgroupfs', version, controllers: controllersOf(delegatedUnit), parent: delegatedUnit.slice(CGROUP_ROOT.length) };
  const delegated = delegatedControllers(hostUid);
  const bus = sessionBus(hostUid);
  if (setting === 'systemd' || (setting === 'auto' && bus && delegated)) {
    if (!bus)
      throw new CliError('EUSAGE', '--cgroup-manager systemd needs a systemd user session (no session bus): log in through systemd-logind, or use cgroupfs');
    if (!delegated)
      return none(version, `systemd gives your user no cgroup (no user@${hostUid}.service)`, 'log in through systemd-logind, or enable lingering');
    return { manager: 'systemd', version, controllers: delegated };
  }
  const own = ownCgroup();
  const parent = own && dirname(own);
  if (parent && writable(join(parent, 'cgroup.procs')) && writable(join(parent, 'cgroup.subtree_control')))
    return { manager: 'cgroupfs', version, controllers: controllersOf(parent) };
  if (setting === 'cgroupfs')
    throw new CliError(
      'EUSAGE',
      `--cgroup-manager cgroupfs needs a cgroup of yours to write: ${parent ?? 'your cgroup'} is not (run skiff in a unit with Delegate=yes, or use systemd)`,
    );
  return none(
    version,
    'no cgroup of yours to put containers in (no systemd user session, no delegated cgroup)',
    'log in through systemd-logind, or run skiff in a unit with Delegate=yes',
  );
};

// Every limit asked for must be enforceable: the first that is not fails the create in one line.
export const checkLimits = (limits: ResourceLimits, setup: CgroupSetup, disabled: boolean): void => {
  for (const [controller, flag] of neededControllers(limits)) {
    if (disabled) throw new CliError('EUSAGE', `${flag} needs a cgroup, and --cgroups=disabled gives the container none`);
    if (setup.manager === 'none') throw new CliError('EUSAGE', `${flag} cannot be enforced: ${setup.why}${setup.fix ? ` (${setup.fix})` : ''}`);
    if (!setup.controllers.includes(controller))
      throw new CliError(
        'EUSAGE',
        `${flag} needs the ${controller} cgroup controller, which ${setup.manager === 'systemd' ? 'systemd does not delegate to your user' : 'your cgroup does not have'} (${setup.controllers.join(' ') || 'none'}): ${DELEGATE_FIX}`,
      );
  }
};

// linux.cgroupsPath: systemd's "slice:prefix:name" (a scope skiff-ID.scope), or a cgroupfs path
// beside this process's cgroup.
export const cgroupsPath = (manager: CgroupManager, id: string, parent?: string): string | undefined => {
  if (manager === 'systemd') return `${parent || 'user.slice'}:skiff:${id}`;
  if (manager === 'cgroupfs') {
    const own = ownCgroup();
    const base = parent ?? (own ? dirname(own).slice(CGROUP_ROOT.length) || '/' : undefined);
    return base === undefined ? undefined : join(base, `skiff-${id}`);
  }
  return undefined;
};

// The runtime's global flag for the manager (the same on every call for the container).
export const runtimeManagerArgs = (runtime: 'crun' | 'runc', manager: CgroupManager | 'disabled'): string[] => {
  if (runtime === 'crun') return manager === 'systemd' ? ['--cgroup-manager=systemd'] : manager === 'disabled' ? ['--cgroup-manager=disabled'] : [];
  return manager === 'systemd' ? ['--systemd-cgroup'] : [];
};

// Whether a running container's cgroup is frozen (pause), from its init's cgroup.
export const isFrozen = (pid: number): boolean => {
  const dir = cgroupOfPid(pid);
  return dir !== undefined && read(join(dir, 'cgroup.freeze'))?.trim() === '1';
};

// A user service with Delegate=yes that this process runs in (systemctl --user show): its cgroup,
// or undefined (a login session, a terminal's scope, a unit without delegation, no systemd).
export const delegatedUnitCgroup = async (hostUid: number): Promise<string | undefined> => {
  const own = ownCgroup();
  if (!own || !own.includes(`/user@${hostUid}.service/`) || !own.endsWith('.service') || !writable(join(own, 'cgroup.procs'))) return undefined;
  const systemctl = findHelperBinary('systemctl');
  if (!systemctl) return undefined;
  try {
    const { stdout } = await runHelper(systemctl, ['--user', 'show', '-p', 'Delegate', '--value', basename(own)]);
    return stdout.trim() === 'yes' ? own : undefined;
  } catch {
    return undefined;
  }
};

// The setup for this host and this process: cgroupSetup with the delegated unit skiff runs in, if
// any (what create, info and system check all ask).
export const hostCgroupSetup = async (setting: CgroupManagerSetting, hostUid: number): Promise<CgroupSetup> => {
  const unit = setting === 'auto' || setting === 'cgroupfs' ? await delegatedUnitCgroup(hostUid) : undefined;
  return cgroupSetup(setting, hostUid, unit);
};

// Moves every process of the unit's cgroup into its leaf `supervisor` (skiff, the monitors it
// starts, the unit's own processes): a cgroup whose children have controllers holds no processes
// (cgroup v2's rule), and the runtime makes each container's cgroup beside it.
export const enterSupervisor = (unit: string): void => {
  const leaf = join(unit, 'supervisor');
  mkdirSync(leaf, { recursive: true });
  for (let round = 0; round < 5; round++) {
    const pids = (read(join(unit, 'cgroup.procs')) ?? '').split('\n').filter(Boolean);
    if (!pids.length) return;
    for (const pid of pids) {
      try {
        writeFileSync(join(leaf, 'cgroup.procs'), pid);
      } catch {
        // gone meanwhile
      }
    }
  }
};
