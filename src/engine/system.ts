// The system half of the engine: version, info, host check, disk usage.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { release } from 'node:os';
import { cgroupVersion } from '../cgroups/detect.js';
import { hostCgroupSetup } from '../cgroups/manager.js';
import { namespaceIds } from '../util/idmap.js';
import { CliError, messageOf } from '../errors.js';
import { hostPlatform } from '../image/manifest.js';
import type { CheckResult } from '../rootless/host-check.js';
import { currentUser, readSubids } from '../rootless/subid.js';
import { isRootful } from '../rootless/rootful.js';
import { volumeUsers, type ContainerRecord } from '../state/containers.js';
import { findHelperBinary, spawnHelper, type Spawned } from '../util/exec.js';
import { defaultNetwork } from '../network/backend.js';
import type { EngineContext } from './context.js';
import { containerRwSize, diskUsage, type DiskUsageDetail } from './disk-usage.js';

import { VERSION } from '../version.js';

export interface VersionReport {
  Version: string;
  NodeVersion: string;
  OsArch: string;
}

export interface DiskUsageReport {
  type: 'Images' | 'Containers' | 'Local Volumes';
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

export class SystemEngine {
  constructor(private readonly ctx: EngineContext) {}

  // `unshare`: runs a command (already inside the rootless namespace) with this process's stdio,
  // SKIFF_ROOT naming the store; its exit code, or 127/126 when it cannot be run. `rootlessNetns`:
  // in the network namespace of the named networks' bridges too (made if it is not there yet).
  async unshare(argv: string[], rootlessNetns = false): Promise<number> {
    let child: Spawned;
    let command = argv;
    if (rootlessNetns) {
      const { ensureHolder } = await import('../network/bridge.js');
      const holder = await ensureHolder(this.ctx.paths.run);
      const nsenter = findHelperBinary('nsenter');
      if (!nsenter) throw new CliError('EHELPER', 'nsenter not found: install util-linux', { exitCode: 127 });
      command = [nsenter, '--target', String(holder), '--net', '--', ...argv];
    }
    try {
      child = spawnHelper(command[0], command.slice(1), [0, 1, 2], { env: { SKIFF_ROOT: this.ctx.paths.data } });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CliError('EUSAGE', `cannot run ${argv[0]}: ${code === 'ENOENT' ? 'no such file or directory' : messageOf(error)}`, {
        exitCode: code === 'ENOENT' ? 127 : 126,
      });
    }
    return child.exited;
  }

  version(): VersionReport {
    const p = hostPlatform();
    return { Version: VERSION, NodeVersion: process.version, OsArch: `${p.os}/${p.architecture}` };
  }

  async info(): Promise<Record<string, unknown>> {
    const user = currentUser();
    const mapping = (file: string, own: number) => [
      { container_id: 0, host_id: own, size: 1 },
      ...(this.ctx.config.storage.userns === 'single'
        ? []
        : readSubids(file).map((r, i, all) => ({ container_id: 1 + all.slice(0, i).reduce((n, x) => n + x.count, 0), host_id: r.start, size: r.count }))),
    ];
    const runtime = findHelperBinary(this.ctx.config.engine.runtime) ?? findHelperBinary('crun') ?? findHelperBinary('runc');
    const network = defaultNetwork(this.ctx.config.network.backend);
    let distro = 'unknown';
    try {
      distro = /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? distro;
    } catch {
      /* no os-release */
    }
    const images = this.ctx.images.list();
    return {
      host: {
        arch: hostPlatform().architecture,
        os: 'linux',
        kernel: release(),
        distribution: distro,
        cgroupVersion: cgroupVersion(),
        ...(await this.cgroupReport()),
        rootless: !isRootful(),
        user: user.name,
        idMappings: { uidmap: mapping('/etc/subuid', user.uid), gidmap: mapping('/etc/subgid', user.gid) },
        ociRuntime: runtime ?? 'none',
        networkBackend: network,
      },
      store: {
        graphRoot: this.ctx.paths.data,
        runRoot: this.ctx.paths.run,
        configFile: this.ctx.paths.configFile,
        graphDriverName: 'overlay',
        usernsMode: this.ctx.config.storage.userns,
        rootfsDriver: this.rootfsDriver(),
        imageStore: { number: images.length },
        containerStore: this.containerCounts(),
        layerStore: { number: this.ctx.layers.list().length },
      },
      registries: { search: this.ctx.config.unqualifiedSearchRegistries },
      version: this.version(),
    };
  }

  // The cgroup manager containers get here, the controllers it has, and why not when none.
  private async cgroupReport(): Promise<Record<string, unknown>> {
    try {
      const setup = await hostCgroupSetup(this.ctx.config.engine.cgroupManager, namespaceIds().hostUid);
      return {
        cgroupManager: setup.manager,
        cgroupControllers: setup.controllers,
        ...(setup.why ? { cgroupLimits: `none: ${setup.why}${setup.fix ? ` (${setup.fix})` : ''}` } : {}),
      };
    } catch (error) {
      return { cgroupManager: 'none', cgroupControllers: [], cgroupLimits: `none: ${messageOf(error)}` };
    }
  }

  // The configured root filesystem driver, or the probed one (probed at the first container start).
  private rootfsDriver(): string {
    const setting = this.ctx.config.storage.rootfs;
    if (setting !== 'auto') return setting;
    try {
      return readFileSync(join(this.ctx.paths.run, 'rootfs-driver'), 'utf8').trim();
    } catch {
      return 'auto (probed when the first container starts)';
    }
  }

  private containerCounts(): { number: number; running: number; stopped: number } {
    const states = this.ctx.containers.list().map((c) => this.ctx.containers.effectiveState(c.id).status);
    const running = states.filter((s) => s === 'running' || s === 'stopping').length;
    return { number: states.length, running, stopped: states.length - running };
  }

  async check(): Promise<CheckResult[]> {
    const { checkHost } = await import('./lazy.js');
    return checkHost(this.ctx.config.storage.userns === 'single' || isRootful(), this.ctx.config.engine.cgroupManager);
  }

  // Removes every container (through `removeContainer`), then the store and runtime dirs and the
  // pause process. Caller has joined the namespace (the store holds files of mapped ids).
  async reset(removeContainer: (id: string) => Promise<unknown>): Promise<void> {
    for (const c of this.ctx.containers.list()) await removeContainer(c.id).catch(() => undefined);
    // Mounted images (image mount) are read-only trees inside the store: unmounted before it goes.
    const { ImageMounts } = await import('./image-mounts.js');
    new ImageMounts(this.ctx).unmountAll();
    const { stopPause } = await import('./lazy.js');
    const { stopHolder } = await import('../network/bridge.js');
    rmSync(this.ctx.paths.data, { recursive: true, force: true });
    stopHolder(this.ctx.paths.run);
    stopPause(this.ctx.paths.run);
    rmSync(this.ctx.paths.run, { recursive: true, force: true });
  }

  // Podman's `system migrate`, for what the rootless namespaces cannot see (a file system mounted
  // after they were made): stops their pause process and the named networks' namespace holder, so
  // the next command makes new ones. Refused while a container runs (in any store using this
  // runtime dir), since its processes and mounts live in them.
  async migrate(): Promise<void> {
    const { liveMonitors, stopPause } = await import('./lazy.js');
    const names = new Map(this.ctx.containers.list().map((c) => [c.id, c.name]));
    const running = new Set(liveMonitors(this.ctx.paths.run).map((m) => names.get(m.id) ?? m.id.slice(0, 12)));
    for (const [id, name] of names) if (['running', 'stopping'].includes(this.ctx.containers.effectiveState(id).status)) running.add(name);
    if (running.size) {
      const n = running.size;
      throw new CliError(
        'ESTATE',
        `${n} container${n === 1 ? ' is' : 's are'} running (${[...running].join(', ')}): stop ${n === 1 ? 'it' : 'them'} first, then run \`skiff system migrate\` again`,
      );
    }
    const { stopHolder } = await import('../network/bridge.js');
    stopHolder(this.ctx.paths.run);
    stopPause(this.ctx.paths.run);
  }

  private volumeUsage(containers: ContainerRecord[]): DiskUsageReport {
    const users = volumeUsers(containers);
    const volumes = this.ctx.volumes.list().map((v) => ({ used: users.has(v.Name), size: this.ctx.volumes.size(v.Name) }));
    return {
      type: 'Local Volumes',
      total: volumes.length,
      active: volumes.filter((v) => v.used).length,
      size: volumes.reduce((n, v) => n + v.size, 0),
      reclaimable: volumes.filter((v) => !v.used).reduce((n, v) => n + v.size, 0),
    };
  }

  // `system df --verbose`: per image, container and volume (disk-usage.ts).
  dfVerbose(): DiskUsageDetail {
    return diskUsage(this.ctx);
  }

  df(): DiskUsageReport[] {
    const images = this.ctx.images.list();
    const layers = this.ctx.layers.list();
    const containers = this.ctx.containers.list();
    const usedImages = new Set(containers.map((c) => c.imageId));
    const usedLayers = new Set(containers.flatMap((c) => c.layers));
    const size = layers.reduce((n, l) => n + l.size, 0);
    const reclaimable = layers.filter((l) => !usedLayers.has(l.chainId)).reduce((n, l) => n + l.size, 0);
    // Podman's: a container's size is its writable layer's, reclaimable when it does not run.
    const sized = containers.map((c) => ({
      running: ['running', 'stopping'].includes(this.ctx.containers.effectiveState(c.id).status),
      size: containerRwSize(this.ctx, c.id, c.rootfsDriver),
    }));
    const running = sized.filter((c) => c.running);
    const containerSize = sized.reduce((n, c) => n + c.size, 0);
    return [
      { type: 'Images', total: images.length, active: images.filter((i) => usedImages.has(i.id)).length, size, reclaimable },
      {
        type: 'Containers',
        total: containers.length,
        active: running.length,
        size: containerSize,
        reclaimable: containerSize - running.reduce((n, c) => n + c.size, 0),
      },
      this.volumeUsage(containers),
    ];
  }
}

export type { CheckResult };
