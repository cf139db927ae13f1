// pasta (passt's namespace mode): userspace networking for a container's own network namespace,
// the default where it is installed. The monitor bind-mounts the container's namespace to a file
// and starts pasta on that file; pasta forwards the published ports itself (keeping a remote
// client's source address) and quits when the file goes away. Inside, the container has the host's
// own address and routes; its gateway reaches the host's loopback (host.containers.internal), and
// DNS sent to PASTA_DNS goes to the host's first name server.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { PortMapping } from './ports.js';

export const PASTA_DNS = '169.254.1.1';

// One -t/-u value: [address/]hostPort:containerPort.
const portSpec = (m: PortMapping): string => `${m.hostIp === '0.0.0.0' ? '' : `${m.hostIp}/`}${m.hostPort}:${m.containerPort}`;

// pasta's arguments; the monitor puts the namespace file in place of {netns}. `pidFile`: where
// pasta writes its pid, for the monitor to stop it.
export const pastaHelperArgs = (ports: PortMapping[], pidFile: string): string[] => {
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
    '--netns',
    '{netns}',
  ];
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
