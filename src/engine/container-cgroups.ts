// A container's cgroup: the manager chosen at create (see cgroups/manager.ts), the limits checked
// against what that manager can enforce, and what the spec and the runtime are told.
import { statSync } from 'node:fs';
import { ociResources } from '../cgroups/limits.js';
import { type CgroupManager, cgroupsPath, checkLimits, enterSupervisor, hostCgroupSetup } from '../cgroups/manager.js';
import { CliError } from '../errors.js';
import type { ContainerConfig, ContainerRecord } from '../state/containers.js';
import { namespaceIds } from '../util/idmap.js';
import { log } from '../util/log.js';
import type { EngineContext } from './context.js';

// The manager for a new container; a limit it cannot enforce fails here, before anything is made.
// Run from a systemd user unit with Delegate=yes (a `systemctl --user` service), containers stay in
// the unit's cgroup: cgroupfs beside a `supervisor` leaf that skiff and its monitors move into.
export const chooseCgroupManager = async (ctx: EngineContext, config: ContainerConfig): Promise<CgroupManager> => {
  const disabled = config.cgroups === 'disabled';
  const { hostUid } = namespaceIds();
  const setting = disabled ? 'none' : ctx.config.engine.cgroupManager;
  const setup = await hostCgroupSetup(setting, hostUid);
  if (setup.parent) {
    config.cgroupParent ??= setup.parent;
    enterSupervisor(`/sys/fs/cgroup${setup.parent}`);
  }
  const r = config.resources;
  if (r) {
    checkLimits(r, setup, disabled);
    for (const d of [
      ...(r.deviceReadBps ?? []),
      ...(r.deviceWriteBps ?? []),
      ...(r.deviceReadIops ?? []),
      ...(r.deviceWriteIops ?? []),
      ...(r.blkioWeightDevice ?? []),
    ])
      blockDevice(d.path);
    // cgroup v2 has neither (Podman says so too): the rest of the limits hold.
    if (r.memorySwappiness !== undefined) log.warn('--memory-swappiness has no effect on cgroup v2: ignored');
    if (r.oomKillDisable) log.warn('--oom-kill-disable has no effect on cgroup v2: ignored');
  }
  return setup.manager;
};

// What the runtime is told of the container's cgroup on every call.
export const runtimeCgroups = (record: ContainerRecord): CgroupManager | 'disabled' =>
  record.config.cgroups === 'disabled' ? 'disabled' : (record.cgroupManager ?? 'none');

// Whether the container has a cgroup of its own (what pause, stats and update work on).
export const hasOwnCgroup = (record: ContainerRecord): boolean => {
  const manager = runtimeCgroups(record);
  return manager !== 'none' && manager !== 'disabled';
};

// A block device's major and minor numbers (for io throttles).
export const blockDevice = (path: string): [number, number] => {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st?.isBlockDevice()) throw new CliError('EUSAGE', `${path} is not a block device on this host: io limits name one, e.g. /dev/sda`);
  const rdev = st.rdev;
  return [Math.floor(rdev / 256) & 0xfff, (rdev & 0xff) | (Math.floor(rdev / 4096) & ~0xff)];
};

// The spec's cgroup parts: linux.resources and linux.cgroupsPath.
export const specCgroups = (record: ContainerRecord): { resources?: Record<string, unknown>; cgroupsPath?: string } => {
  if (!hasOwnCgroup(record)) return {};
  const resources = record.config.resources ? ociResources(record.config.resources, blockDevice) : undefined;
  const path = cgroupsPath(record.cgroupManager!, record.id, record.config.cgroupParent);
  return { ...(resources ? { resources } : {}), ...(path ? { cgroupsPath: path } : {}) };
};
