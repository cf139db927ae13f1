// The rootless network namespace that holds every named network's bridge: created inside skiff's
// user namespace and kept alive by a small holder process (like the pause process), recorded in
// $XDG_RUNTIME_DIR/skiff/netns.pid. Containers join a bridge with a veth pair; `ip` (iproute2)
// does the netlink work, run in the right namespace through nsenter.
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import { liveRecord, startTimeOf, type PauseRecord } from '../rootless/enter.js';
import { requireHelperBinary, runHelper } from '../util/exec.js';
import { writeJsonAtomic } from '../util/fs.js';
import { withLock } from '../util/lock.js';
import type { NetworkRecord } from './networks.js';
import { prefixOf } from './networks.js';

const HOLDER_FILE = 'netns.pid';

const liveHolder = (runDir: string): number | undefined => liveRecord(join(runDir, HOLDER_FILE))?.pid;

// The holder's pid, creating the namespace on first use (serialised by a lock).
export const ensureHolder = async (runDir: string): Promise<number> => {
  const live = liveHolder(runDir);
  if (live) return live;
  return withLock(join(runDir, 'netns.lock'), async () => {
    const again = liveHolder(runDir);
    if (again) return again;
    const unshare = requireHelperBinary('unshare', 'util-linux');
    const child = spawn(unshare, ['--net', '--', 'sleep', 'infinity'], { detached: true, stdio: 'ignore', cwd: '/' });
    child.unref();
    // Wait until it has its own network namespace (unshare runs before exec'ing sleep).
    for (let i = 0; i < 200; i++) {
      const start = startTimeOf(child.pid!);
      try {
        if (start && readlinkSync(`/proc/${child.pid}/ns/net`) !== readlinkSync('/proc/self/ns/net')) {
          writeJsonAtomic(join(runDir, HOLDER_FILE), { pid: child.pid!, startTime: start } satisfies PauseRecord);
          await runIn(child.pid!, ['link set lo up']);
          return child.pid!;
        }
      } catch {
        // not there yet
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new CliError('EHELPER', 'cannot create the rootless network namespace for named networks');
  });
};

// Runs `ip` commands (one per line, `ip -batch`) in the network namespace of `pid`.
const runIn = async (pid: number, commands: string[], allowFailure = false): Promise<void> => {
  const nsenter = requireHelperBinary('nsenter', 'util-linux');
  const ip = requireHelperBinary('ip', 'iproute2');
  const args = ['--target', String(pid), '--net', '--', ip, ...(allowFailure ? ['-force'] : []), '-batch', '-'];
  const { execFile } = await import('node:child_process');
  await new Promise<void>((resolve, reject) => {
    const child = execFile(nsenter, args, (error, _stdout, stderr) => {
      if (error && !allowFailure) reject(new CliError('EHELPER', `ip ${commands.join('; ')}: ${stderr.trim().split('\n').pop() || messageOf(error)}`));
      else resolve();
    });
    child.stdin!.end(`${commands.join('\n')}\n`);
  });
};

const linkExists = async (pid: number, device: string): Promise<boolean> => {
  try {
    await runHelper(requireHelperBinary('nsenter', 'util-linux'), ['--target', String(pid), '--net', '--', requireHelperBinary('ip', 'iproute2'), 'link', 'show', device]);
    return true;
  } catch {
    return false;
  }
};

// Makes sure the network's bridge exists and is up (it goes with the holder, e.g. after a reboot).
export const ensureBridge = async (runDir: string, network: NetworkRecord): Promise<number> => {
  const holder = await ensureHolder(runDir);
  if (await linkExists(holder, network.bridge)) return holder;
  await runIn(holder, [`link add ${network.bridge} type bridge`, `addr add ${network.gateway}/${prefixOf(network.subnet)} dev ${network.bridge}`, `link set ${network.bridge} up`]);
  return holder;
};

export const removeBridge = async (runDir: string, network: NetworkRecord): Promise<void> => {
  const holder = liveHolder(runDir);
  if (holder) await runIn(holder, [`link del ${network.bridge}`], true);
};

// The host-side name of a container's veth on a network (15 characters at most).
export const vethName = (containerId: string, network: NetworkRecord): string => `vs${network.bridge.replace('skiff', '')}-${containerId.slice(0, 8)}`;

// Connects a running container (pid) to a network: veth pair, address, routes.
export const attach = async (runDir: string, network: NetworkRecord, containerId: string, pid: number, ip: string, device: string): Promise<void> => {
  const holder = await ensureBridge(runDir, network);
  const veth = vethName(containerId, network);
  await runIn(holder, [`link del ${veth}`], true);
  await runIn(holder, [`link add ${veth} type veth peer name ${device} netns ${pid}`, `link set ${veth} master ${network.bridge}`, `link set ${veth} up`]);
  await runIn(pid, [`addr add ${ip}/${prefixOf(network.subnet)} dev ${device}`, `link set ${device} up`, 'link set lo up']);
};

export const detach = async (runDir: string, network: NetworkRecord, containerId: string): Promise<void> => {
  const holder = liveHolder(runDir);
  if (holder) await runIn(holder, [`link del ${vethName(containerId, network)}`], true);
};
