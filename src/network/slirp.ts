// slirp4netns: userspace networking for a container's own network namespace. The monitor starts it
// (exit fd: it ends with the container or the monitor); the CLI adds the published ports through
// its API socket before the container starts. Addresses inside: 10.0.2.100/24, gateway 10.0.2.2
// (the host, but not its loopback), DNS 10.0.2.3 (forwards to the host's resolvers).
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { CliError } from '../errors.js';
import type { PortMapping } from './ports.js';

export const SLIRP_GUEST = '10.0.2.100';
export const SLIRP_DNS = '10.0.2.3';
export const SLIRP_GATEWAY = '10.0.2.2';

// slirp4netns:OPTIONS, as Podman takes them (cidr=, port_handler=, allow_host_loopback=,
// enable_ipv6=, outbound_addr=, outbound_addr6=, mtu=); the defaults are skiff's.
export interface SlirpOptions {
  cidr?: string;
  /** slirp4netns: every published port through its API (else the monitor forwards IPv4 ones). */
  portHandler: 'rootlesskit' | 'slirp4netns';
  allowHostLoopback: boolean;
  enableIpv6: boolean;
  outboundAddr?: string;
  outboundAddr6?: string;
  mtu: number;
}

const boolOption = (option: string, value: string): boolean => {
  if (value === 'true' || value === 'false') return value === 'true';
  throw new CliError('EUSAGE', `invalid slirp4netns option "${option}": use true or false`);
};

// (node:net's checks would load node:net for every container.)
const isIPv4 = (s: string): boolean => /^(\d{1,3})(\.\d{1,3}){3}$/.test(s) && s.split('.').every((o) => Number(o) <= 255);
const isIPv6 = (s: string): boolean => s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s);
const isIP = (s: string): boolean => isIPv4(s) || isIPv6(s);

// An interface of this host (outbound_addr= may name one instead of an address).
const isInterface = (name: string): boolean => existsSync(`/sys/class/net/${name}`) && !name.includes('/');

export const parseSlirpOptions = (options: string[]): SlirpOptions => {
  const parsed: SlirpOptions = { portHandler: 'rootlesskit', allowHostLoopback: false, enableIpv6: false, mtu: 65520 };
  for (const option of options) {
    const eq = option.indexOf('=');
    const [key, value] = [option.slice(0, eq), option.slice(eq + 1)];
    const bad = (what: string) => new CliError('EUSAGE', `invalid slirp4netns option "${option}": ${what}`);
    if (eq < 0) throw bad('use KEY=VALUE (cidr, port_handler, allow_host_loopback, enable_ipv6, outbound_addr, outbound_addr6, mtu)');
    switch (key) {
      case 'cidr': {
        const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(value);
        if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 25 || Number(m[5]) < 1)
          throw bad('use an IPv4 network such as 10.0.3.0/24 (at most /25: the container is its 100th address)');
        parsed.cidr = value;
        break;
      }
      case 'port_handler':
        if (value !== 'rootlesskit' && value !== 'slirp4netns') throw bad('use rootlesskit or slirp4netns');
        parsed.portHandler = value;
        break;
      case 'allow_host_loopback':
        parsed.allowHostLoopback = boolOption(option, value);
        break;
      case 'enable_ipv6':
        parsed.enableIpv6 = boolOption(option, value);
        break;
      case 'outbound_addr':
        if (!isIPv4(value) && !isInterface(value)) throw bad('use an IPv4 address or an interface of this host');
        parsed.outboundAddr = value;
        break;
      case 'outbound_addr6':
        if (!isIPv6(value) && !isInterface(value)) throw bad('use an IPv6 address or an interface of this host');
        parsed.outboundAddr6 = value;
        break;
      case 'mtu':
        if (!/^\d+$/.test(value) || Number(value) < 68 || Number(value) > 65521) throw bad('use a number from 68 to 65521');
        parsed.mtu = Number(value);
        break;
      default:
        throw bad('unknown option: use cidr, port_handler, allow_host_loopback, enable_ipv6, outbound_addr, outbound_addr6 or mtu');
    }
  }
  return parsed;
};

// The container's address, gateway (the host) and name server in its network: the 100th, 2nd
// and 3rd addresses of cidr (10.0.2.0/24 by default), as slirp4netns configures them.
export const slirpAddresses = (o: SlirpOptions): { guest: string; gateway: string; dns: string } => {
  if (!o.cidr) return { guest: SLIRP_GUEST, gateway: SLIRP_GATEWAY, dns: SLIRP_DNS };
  const [address, prefix] = o.cidr.split('/') as [string, string];
  const base = (address.split('.').reduce((n, o) => n * 256 + Number(o), 0) & (0xffffffff << (32 - Number(prefix)))) >>> 0;
  const ip = (n: number) => [24, 16, 8, 0].map((s) => ((base + n) >>> s) & 255).join('.');
  return { guest: ip(100), gateway: ip(2), dns: ip(3) };
};

// An interface name becomes its first address of that family (slirp4netns takes addresses only).
const outbound = (value: string, family: 'IPv4' | 'IPv6'): string =>
  isIP(value) ? value : (networkInterfaces()[value]?.find((a) => a.family === family)?.address ?? value);

export const slirpHelperArgs = (apiSocket: string, o: SlirpOptions = parseSlirpOptions([])): string[] => [
  '--configure',
  `--mtu=${o.mtu}`,
  ...(o.allowHostLoopback ? [] : ['--disable-host-loopback']),
  ...(o.cidr ? [`--cidr=${o.cidr}`] : []),
  ...(o.enableIpv6 ? ['--enable-ipv6'] : []),
  ...(o.outboundAddr ? [`--outbound-addr=${outbound(o.outboundAddr, 'IPv4')}`] : []),
  ...(o.outboundAddr6 ? [`--outbound-addr6=${outbound(o.outboundAddr6, 'IPv6')}`] : []),
  '--enable-sandbox',
  '--enable-seccomp',
  '--exit-fd=3',
  '--ready-fd=4',
  `--api-socket=${apiSocket}`,
  '{pid}',
  'tap0',
];

const call = async (apiSocket: string, request: unknown): Promise<{ return?: unknown; error?: { desc?: string } }> => {
  // node:net loads only for containers that publish through slirp4netns.
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = connect(apiSocket);
    let text = '';
    socket.on('connect', () => socket.end(JSON.stringify(request)));
    socket.on('data', (d) => (text += d));
    socket.on('error', reject);
    socket.on('close', () => {
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new CliError('EHELPER', `slirp4netns answered ${JSON.stringify(text)} to a port forwarding request`));
      }
    });
  });
};

// Forwards each published port from the host into the container.
export const publishPorts = async (apiSocket: string, mappings: PortMapping[], guest = SLIRP_GUEST): Promise<void> => {
  for (const m of mappings) {
    const answer = await call(apiSocket, {
      execute: 'add_hostfwd',
      arguments: { proto: m.protocol, host_addr: m.hostIp, host_port: m.hostPort, guest_addr: guest, guest_port: m.containerPort },
    }).catch((error: Error) => ({ error: { desc: error.message } }));
    if (answer.error) throw new CliError('ESTATE', `cannot publish ${m.hostIp}:${m.hostPort}/${m.protocol}: ${answer.error.desc ?? 'slirp4netns refused'}`);
  }
};
