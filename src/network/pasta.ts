// pasta (passt's namespace mode): userspace networking for a container's own network namespace,
// the default where it is installed. The monitor bind-mounts the container's namespace to a file
// and starts pasta on that file; pasta forwards the published ports itself (keeping a remote
// client's source address) and quits when the file goes away. Inside, the container has the host's
// own address and routes; its gateway reaches the host's loopback (host.containers.internal), and
// DNS sent to PASTA_DNS goes to the host's first name server.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { CliError } from '../errors.js';
import type { PortMapping } from './ports.js';

export const PASTA_DNS = '169.254.1.1';

// One -t/-u value: [address/]hostPort:containerPort.
const portSpec = (m: PortMapping): string => `${m.hostIp === '0.0.0.0' ? '' : `${m.hostIp}/`}${m.hostPort}:${m.containerPort}`;

// pasta's arguments; the monitor puts the namespace file in place of {netns}. `pidFile`: where
// pasta writes its pid, for the monitor to stop it.
// `extra`: pasta:OPTIONS (see checkPastaOptions), before the namespace.
export const pastaHelperArgs = (ports: PortMapping[], pidFile: string, extra: string[] = []): string[] => {
  const forward = (protocol: 'tcp' | 'udp', flag: string): string[] => {
    const mine = ports.filter((p) => p.protocol === protocol);
    return mine.length ? mine.flatMap((p) => [flag, portSpec(p)]) : [flag, 'none'];
  };
  return [
    '--foreground',
    '--config-net',
    '--quiet',
    ...forward('tcp', '-t'),
    ...forward('udp', '-u'),
    '-T',
    'none',
    '-U',
    'none',
    '--dns-forward',
    PASTA_DNS,
    '--pid',
    pidFile,
    ...extra,
    '--netns',
    '{netns}',
  ];
};

// pasta's options that skiff sets itself, each with what to do instead: the ports (-p), how the
// monitor runs and stops it, the namespace, and DNS forwarding (resolv.conf names PASTA_DNS).
const OWN_OPTIONS: [string[], string][] = [
  [['-t', '--tcp-ports', '-u', '--udp-ports', '-T', '--tcp-ns', '-U', '--udp-ns'], 'publish ports with -p'],
  [
    ['-f', '--foreground', '-P', '--pid', '--netns', '--netns-only', '--userns', '--runas', '-F', '--fd', '-1', '--one-off'],
    "skiff runs pasta on the container's namespace itself",
  ],
  [['--dns-forward'], `skiff forwards ${PASTA_DNS} (give name servers with --dns)`],
  [['-h', '--help', '--version'], 'it is no option for a container'],
];

// pasta:OPT,OPT,...: pasta's own options, passed on, less those that would break skiff's (each
// refused in one line); a value follows its option as the next item (pasta:-a,10.0.2.5).
export const checkPastaOptions = (options: string[]): string[] => {
  for (const option of options) {
    if (!option.startsWith('-')) continue;
    const name = option.startsWith('--') ? option.split('=')[0]! : option.slice(0, 2);
    // (Short options run together, -ft, are each checked.)
    const names = option.startsWith('--') ? [name] : [...option.slice(1)].map((c) => `-${c}`);
    for (const n of /^-\d+$/.test(option) ? [] : names) {
      const own = OWN_OPTIONS.find(([list]) => list.includes(n));
      if (own) throw new CliError('EUSAGE', `--network pasta:${options.join(',')}: pasta's ${n} is skiff's to set: ${own[1]}`);
    }
  }
  return options;
};

// The address and gateway that pasta:-a/--address, -g/--gateway give (IPv4).
export const pastaOptionAddresses = (options: string[]): { address?: string; gateway?: string } => {
  const value = (names: string[]) => {
    const at = options.findIndex((o) => names.includes(o));
    const joined = options.find((o) => names.some((n) => n.startsWith('--') && o.startsWith(`${n}=`)));
    const v = at >= 0 ? options[at + 1] : joined?.slice(joined.indexOf('=') + 1);
    return v && /^\d+\.\d+\.\d+\.\d+$/.test(v) ? v : undefined;
  };
  return { address: value(['-a', '--address']), gateway: value(['-g', '--gateway']) };
};

// The host's default route: its interface, gateway and the interface's IPv4 address, which pasta
// copies into the container (undefined without a default route).
export const pastaAddresses = (): { address?: string; gateway: string } | undefined => {
  let table: string;
  try {
    table = readFileSync('/proc/net/route', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of table.split('\n').slice(1)) {
    const [iface, destination, gateway] = line.trim().split(/\s+/);
    if (destination !== '00000000' || !gateway) continue;
    const g = Number.parseInt(gateway, 16);
    const address = networkInterfaces()[iface]?.find((a) => a.family === 'IPv4')?.address;
    return { address, gateway: [g & 255, (g >> 8) & 255, (g >> 16) & 255, g >>> 24].join('.') };
  }
  return undefined;
};
