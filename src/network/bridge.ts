// The rootless network namespace that holds every named network's bridge: created inside skiff's
// user namespace and kept alive by a small holder process (like the pause process), recorded in
// $XDG_RUNTIME_DIR/skiff/netns.pid. Containers join a bridge with a veth pair; `ip` (iproute2)
// does the netlink work, run in the right namespace through nsenter.
import { closeSync, openSync, readFileSync, readlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import { liveRecord, startTimeOf, type ProcessRecord } from '../util/proc.js';
import { findHelperBinary, HelperError, requireHelperBinary, runHelper, signalQuietly, startHelper } from '../util/exec.js';
import { findNative, native } from '../util/native.js';
import { writeJsonAtomic } from '../util/fs.js';
import { withLock } from '../util/lock.js';
import type { NetworkRecord } from './networks.js';
import { prefixOf } from './networks.js';
import { SLIRP_DNS } from './slirp.js';

const HOLDER_FILE = 'netns.pid';
// Written by applyFirewall: the holder whose namespace has this version's rules (the holder's
// record), and the bridges they know.
const FIREWALL_FILE = 'netns.firewall';
interface FirewallRecord extends ProcessRecord {
  bridges?: string[];
}

// Published ports dialled from a remote client's own address (skiff-monitor's --publish-via keep):
// the dialled connection's packets carry TRANSPARENT_MARK, which the firewall keeps in their
// conntrack entry; replies with it get REPLY_MARK, which a rule routes to the local table
// TRANSPARENT_TABLE, where they reach the dialer's socket instead of leaving through tap0.
const TRANSPARENT_MARK = '0x5f1';
const REPLY_MARK = '0x5f2';
const TRANSPARENT_TABLE = '1522';
// A bridge's and its veths' MTU when the network sets none: slirp4netns's (with 1500, bytes to and
// from the way out went in 1500-byte packets through slirp4netns: a third of the throughput).
const DEFAULT_MTU = '65520';

// The holder's record: its pid and, when it has a way out, slirp4netns's.
interface HolderRecord extends ProcessRecord {
  egress?: ProcessRecord;
}

const liveHolder = (runDir: string): number | undefined => liveRecord(join(runDir, HOLDER_FILE))?.pid;

const processRecord = (pid: number | undefined): ProcessRecord | undefined => {
  const startTime = pid && startTimeOf(pid);
  return pid && startTime ? { pid, startTime } : undefined;
};

// The holder's pid, creating the namespace on first use (serialised by a lock). The namespace
// gets its way out through slirp4netns (tap0, NAT by nftables), whose exit fd is a pipe the holder
// keeps open: when the holder goes, so does slirp4netns.
export const ensureHolder = async (runDir: string): Promise<number> => {
  const live = liveRecord<HolderRecord>(join(runDir, HOLDER_FILE));
  if (live && (!live.egress || startTimeOf(live.egress.pid) === live.egress.startTime)) return live.pid;
  return withLock(join(runDir, 'netns.lock'), async () => {
    const again = liveRecord<HolderRecord>(join(runDir, HOLDER_FILE));
    if (again) return again.egress && startTimeOf(again.egress.pid) !== again.egress.startTime ? reviveEgress(runDir, again) : again.pid;
    const unshare = requireHelperBinary('unshare', 'util-linux');
    const [exitRead, exitWrite] = native().pipe();
    // The holder settles down only once it reads a line on fd 4, written after its record: a
    // command killed before that closes the pipe unread, and the holder goes (slirp4netns and
    // skiff-dns with it) instead of living on where no record names it.
    const [commitRead, commitWrite] = native().pipe();
    let child: number;
    try {
      child = startHelper(unshare, ['--net', '--', 'sh', '-c', 'read -r _ <&4 && exec sleep infinity 4<&-'], [null, null, null, exitWrite, commitRead], {
        cwd: '/',
        setsid: true,
      });
    } catch (error) {
      closeSync(exitRead);
      closeSync(commitWrite);
      throw new CliError('EHELPER', `cannot run ${unshare}: ${messageOf(error)}`, { cause: error });
    } finally {
      closeSync(exitWrite);
      closeSync(commitRead);
    }
    try {
      const pid = await waitForNetns(child);
      await runIn(pid, ['link set lo up']);
      const egress = processRecord(await startEgress(pid, exitRead));
      startDns(runDir, pid, exitRead);
      writeJsonAtomic(join(runDir, HOLDER_FILE), { pid, startTime: startTimeOf(pid)!, ...(egress ? { egress } : {}) } satisfies HolderRecord);
      writeSync(commitWrite, 'recorded\n');
      return pid;
    } catch (error) {
      signalQuietly(child, 'SIGKILL');
      throw error;
    } finally {
      closeSync(exitRead);
      closeSync(commitWrite);
    }
  });
};

// slirp4netns died (killed, or crashed) while the holder lives: a new one on the holder's
// namespace, tied to the same exit pipe (the holder's fd 3, opened again for reading), so the
// containers on named networks get their way out back with the next command that needs it.
const reviveEgress = async (runDir: string, holder: HolderRecord): Promise<number> => {
  const exitRead = openSync(`/proc/${holder.pid}/fd/3`, 'r');
  try {
    const egress = processRecord(await startEgress(holder.pid, exitRead));
    writeJsonAtomic(join(runDir, HOLDER_FILE), { pid: holder.pid, startTime: holder.startTime, ...(egress ? { egress } : {}) } satisfies HolderRecord);
  } finally {
    closeSync(exitRead);
  }
  return holder.pid;
};

const waitForNetns = async (pid: number): Promise<number> => {
  for (let i = 0; i < 400; i++) {
    try {
      if (startTimeOf(pid) && readlinkSync(`/proc/${pid}/ns/net`) !== readlinkSync('/proc/self/ns/net')) return pid;
    } catch {
      // not there yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new CliError('EHELPER', 'cannot create the rootless network namespace for named networks');
};

// slirp4netns on tap0 of the holder's namespace (host loopback reachable at 10.0.2.2, so that
// host.containers.internal works), forwarding on, and the firewall.
const startEgress = async (holder: number, exitFd: number): Promise<number | undefined> => {
  const slirp = findHelperBinary('slirp4netns');
  // No way out without both: every named network is then internal. Without nftables there would be
  // no rules keeping networks apart once forwarding is on, so it stays off.
  if (!slirp || !findHelperBinary('nft')) return undefined;
  const [readyRead, readyWrite] = native().pipe();
  let pid: number;
  try {
    pid = startHelper(
      slirp,
      ['--configure', '--mtu=65520', '--enable-sandbox', '--enable-seccomp', '--exit-fd=3', '--ready-fd=4', String(holder), 'tap0'],
      [null, null, null, exitFd, readyWrite],
      {
        setsid: true,
      },
    );
  } catch (error) {
    closeSync(readyRead);
    throw new CliError('EHELPER', `cannot run ${slirp}: ${messageOf(error)}`, { cause: error });
  } finally {
    closeSync(readyWrite);
  }
  // slirp4netns writes to its ready fd once; the pipe ends without a byte when it exits first.
  const { Socket } = await import('node:net');
  const ready = new Socket({ fd: readyRead, readable: true, writable: false });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new CliError('EHELPER', 'slirp4netns did not get ready for the rootless network namespace')), 10_000);
      ready.once('data', () => {
        clearTimeout(timer);
        resolve();
      });
      ready.once('close', () => {
        clearTimeout(timer);
        reject(new CliError('EHELPER', 'slirp4netns exited before it was ready'));
      });
      ready.once('error', () => undefined);
    });
  } finally {
    ready.destroy();
  }
  // Forwarding on; strict reverse-path filtering, so that a container cannot send packets from
  // another network's addresses (a reply spoofed for a dialled connection would take its mark).
  await inNetns(holder, ['sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter']);
  return pid;
};

// The hosts file skiff-dns answers from (see native/dns/skiff-dns.c).
export const dnsHostsFile = (runDir: string): string => join(runDir, 'dns.hosts');

// skiff-dns in the holder's namespace, on port 53 of every network's gateway; it ends with the holder.
const startDns = (runDir: string, holder: number, exitFd: number): void => {
  const dns = findNative('skiff-dns');
  if (!dns) return;
  const nsenter = requireHelperBinary('nsenter', 'util-linux');
  startHelper(nsenter, ['--target', String(holder), '--net', '--', dns, dnsHostsFile(runDir), SLIRP_DNS, '3'], [null, null, null, exitFd], { setsid: true });
};

// The firewall of the rootless network namespace, rewritten whole: NAT out through tap0, nothing
// routed between networks, and nothing in or out of an internal network's bridge.
export const applyFirewall = async (runDir: string, networks: NetworkRecord[]): Promise<void> => {
  const holder = liveHolder(runDir);
  const nft = findHelperBinary('nft');
  if (!holder || !nft) return;
  // Rules name each pair: with br_netfilter loaded, traffic inside one bridge passes this hook too
  // (in and out on the same bridge) and must go on.
  const between = networks.flatMap((a) => networks.filter((b) => b !== a).map((b) => `    iifname "${a.bridge}" oifname "${b.bridge}" drop`));
  const internal = networks
    .filter((n) => n.internal)
    .flatMap((n) => [`    iifname "${n.bridge}" oifname != "${n.bridge}" drop`, `    oifname "${n.bridge}" iifname != "${n.bridge}" drop`]);
  const rules = [
    'add table ip skiff',
    'delete table ip skiff',
    'table ip skiff {',
    '  chain nat_post {',
    '    type nat hook postrouting priority 100;',
    '    oifname "tap0" masquerade',
    '  }',
    '  chain mark_out {',
    '    type route hook output priority mangle;',
    `    meta mark ${TRANSPARENT_MARK} ct mark set ${TRANSPARENT_MARK}`,
    '  }',
    '  chain mark_pre {',
    '    type filter hook prerouting priority mangle;',
    `    ct mark ${TRANSPARENT_MARK} meta mark set ${REPLY_MARK}`,
    '  }',
    '  chain filter_fwd {',
    '    type filter hook forward priority 0;',
    ...between,
    ...internal,
    '  }',
    '}',
  ].join('\n');
  await inNetns(holder, [nft, '-f', '-'], `${rules}\n`).catch((error) => {
    throw new CliError('EHELPER', `nft: ${lastLine(error)}`, { cause: error });
  });
  await runIn(
    holder,
    [
      `rule del fwmark ${REPLY_MARK} lookup ${TRANSPARENT_TABLE}`,
      `rule add fwmark ${REPLY_MARK} lookup ${TRANSPARENT_TABLE}`,
      `route replace local 0.0.0.0/0 dev lo table ${TRANSPARENT_TABLE}`,
    ],
    true,
  );
  writeJsonAtomic(join(runDir, FIREWALL_FILE), {
    pid: holder,
    startTime: startTimeOf(holder)!,
    bridges: networks.map((n) => n.bridge),
  } satisfies FirewallRecord);
};

// What skiff-monitor's --publish-via gets for a container at `ip` on `network`: the holder's
// namespace (made, and given this version's firewall, when needed) and, where the firewall
// routes the replies, `keep` (the dialer then dials from remote clients' own addresses). Not on an
// internal network: its containers have no route but their subnet's, so no way back to a client's
// own address (each dial waited for the dialer's timeout, then came from the gateway).
export const publishVia = async (runDir: string, network: NetworkRecord, all: NetworkRecord[], ip: string): Promise<string> => {
  const holder = await ensureHolder(runDir);
  const ready = () => liveRecord(join(runDir, FIREWALL_FILE))?.pid === holder;
  if (!ready())
    await withLock(join(runDir, 'netns.lock'), async () => {
      if (!ready()) await applyFirewall(runDir, all);
    });
  return `/proc/${holder}/ns/net,${ip}/${prefixOf(network.subnet)}${ready() && !network.internal ? ',keep' : ''}`;
};

// Runs a command in the network namespace of `pid` (through nsenter), `input` on its stdin.
const inNetns = (pid: number, argv: string[], input?: string) =>
  runHelper(requireHelperBinary('nsenter', 'util-linux'), ['--target', String(pid), '--net', '--', ...argv], { input });

const lastLine = (error: unknown): string => (error instanceof HelperError ? error.stderr.trim().split('\n').pop() : '') || messageOf(error);

// Runs `ip` commands (one per line, `ip -batch`) in the network namespace of `pid`.
const runIn = async (pid: number, commands: string[], allowFailure = false): Promise<void> => {
  const ip = requireHelperBinary('ip', 'iproute2');
  try {
    await inNetns(pid, [ip, ...(allowFailure ? ['-force'] : []), '-batch', '-'], `${commands.join('\n')}\n`);
  } catch (error) {
    if (!allowFailure) throw new CliError('EHELPER', `ip ${commands.join('; ')}: ${lastLine(error)}`, { cause: error });
  }
};

// Read from the holder's own view of /proc (its namespace's devices), without starting `ip`.
const linkExists = async (pid: number, device: string): Promise<boolean> => {
  try {
    return readFileSync(`/proc/${pid}/net/dev`, 'utf8')
      .split('\n')
      .some((line) => line.trimStart().startsWith(`${device}:`));
  } catch {
    return false;
  }
};

// Whether the namespace's firewall has the rules of `bridge` (or there is none to have: no nft).
const firewalled = (runDir: string, holder: number, bridge: string): boolean => {
  if (!findHelperBinary('nft')) return true;
  const record = liveRecord<FirewallRecord>(join(runDir, FIREWALL_FILE));
  return record?.pid === holder && (record.bridges ?? []).includes(bridge);
};

// Makes sure the network's bridge exists, is up and has its firewall rules (it goes with the
// holder, e.g. after a reboot). `all`: every network, for the firewall.
export const ensureBridge = async (runDir: string, network: NetworkRecord, all: NetworkRecord[]): Promise<number> => {
  const holder = await ensureHolder(runDir);
  const ready = async () => (await linkExists(holder, network.bridge)) && firewalled(runDir, holder, network.bridge);
  if (await ready()) return holder;
  // Made once: containers started at the same time on a new network (the default one's first
  // use) wait for the first to make it. One a killed command left without its address or its
  // rules (until then, nothing kept it from the other networks) is finished here.
  await withLock(join(runDir, 'netns.lock'), async () => {
    if (await ready()) return;
    await runIn(holder, [
      ...((await linkExists(holder, network.bridge)) ? [] : [`link add ${network.bridge} mtu ${network.options?.mtu ?? DEFAULT_MTU} type bridge`]),
      `addr replace ${network.gateway}/${prefixOf(network.subnet)} dev ${network.bridge}`,
      `link set ${network.bridge} up`,
    ]);
    await applyFirewall(runDir, all.some((n) => n.name === network.name) ? all : [...all, network]);
  });
  return holder;
};

// Ends the rootless network namespace (system reset): slirp4netns and skiff-dns go with it.
export const stopHolder = (runDir: string): void => {
  const pid = liveHolder(runDir);
  if (pid) process.kill(pid, 'SIGKILL');
};

export const removeBridge = async (runDir: string, network: NetworkRecord): Promise<void> => {
  const holder = liveHolder(runDir);
  if (holder) await runIn(holder, [`link del ${network.bridge}`], true);
};

// The host-side name of a container's veth on a network (15 characters at most).
export const vethName = (containerId: string, network: NetworkRecord): string => `vs${network.bridge.replace('skiff', '')}-${containerId.slice(0, 8)}`;

// skiff-monitor's --bridge-attach for a container's first network (the monitor makes the veth pair
// with rtnetlink before the container is created: native/monitor/bridge.c), the bridge made first
// when missing.
export const bridgeAttachSpec = async (
  runDir: string,
  network: NetworkRecord,
  all: NetworkRecord[],
  containerId: string,
  ip: string,
  mac?: string,
): Promise<string> => {
  const holder = await ensureBridge(runDir, network, all);
  const gateway = network.internal ? '-' : network.gateway;
  return [
    `/proc/${holder}/ns/net`,
    network.bridge,
    vethName(containerId, network),
    'eth0',
    `${ip}/${prefixOf(network.subnet)}`,
    gateway,
    network.options?.mtu ?? DEFAULT_MTU,
    ...(mac ? [mac] : []),
  ].join(',');
};

// Connects a running container (pid) to a network: veth pair, address, routes.
export const attach = async (
  runDir: string,
  network: NetworkRecord,
  all: NetworkRecord[],
  containerId: string,
  pid: number,
  ip: string,
  device: string,
  mac?: string,
): Promise<void> => {
  const holder = await ensureBridge(runDir, network, all);
  const veth = vethName(containerId, network);
  await runIn(holder, [`link del ${veth}`], true);
  const mtu = ` mtu ${network.options?.mtu ?? DEFAULT_MTU}`;
  await runIn(holder, [
    `link add ${veth}${mtu} type veth peer name ${device}${mtu}${mac ? ` address ${mac}` : ''} netns ${pid}`,
    `link set ${veth} master ${network.bridge}`,
    `link set ${veth} up`,
  ]);
  await runIn(pid, [
    `addr add ${ip}/${prefixOf(network.subnet)} dev ${device}`,
    `link set ${device} up`,
    'link set lo up',
    // The way out goes through the bridge's gateway, and from there through slirp4netns.
    // (Only on the first network's device: a later one joined with `network connect` adds its subnet.)
    ...(network.internal || device !== 'eth0' ? [] : [`route add default via ${network.gateway}`]),
  ]);
};

export const detach = async (runDir: string, network: NetworkRecord, containerId: string): Promise<void> => {
  const holder = liveHolder(runDir);
  if (holder) await runIn(holder, [`link del ${vethName(containerId, network)}`], true);
};
