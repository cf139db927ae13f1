// The files a container gets at /etc/hosts and /etc/resolv.conf, from its network mode and flags.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { readBoundedFile } from '../util/bounded-read.js';
import { CONFIG_FILE_MAX } from '../util/limits.js';
import { log } from '../util/log.js';
import { networkMode } from './modes.js';

const hostResolvConf = (): string[] => {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8').split('\n');
  } catch {
    return [];
  }
};

// The entries of containers.conf's base_hosts_file (comments and blank lines dropped); a file
// gone since the container was made is left out, with a warning.
const baseHosts = (file: string): string[] => {
  try {
    return readBoundedFile(file, { what: `base_hosts_file ${file}`, limit: CONFIG_FILE_MAX, code: 'ECONFIG' })
      .toString('utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
  } catch (error) {
    log.warn(`base_hosts_file ${file}: ${(error as Error).message}: left out of /etc/hosts`);
    return [];
  }
};

// The host's first non-loopback IPv4 address: how a container reaches services on the host.
const hostAddress = (): string | undefined =>
  Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

// `peers`: the other containers on the container's named networks (an address and its names each).
// `host`: how the container reaches the host ('host-address': the host's own first address, for
// slirp4netns without host loopback; else an address such as 10.0.2.2), or undefined for none.
// What of a container's configuration its /etc/hosts and /etc/resolv.conf come from.
export interface EtcConfig {
  network: string;
  namedNetwork?: boolean;
  hostname: string;
  networkIp?: string;
  aliases?: string[];
  extraNetworks?: { ip: string }[];
  addHosts?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  baseHostsFile?: string;
}

export const etcHosts = (c: EtcConfig, name: string, peers: { ip: string; names: string[] }[] = [], host?: string): string => {
  const lines = [
    // containers.conf base_hosts_file: its entries first.
    ...(c.baseHostsFile ? baseHosts(c.baseHostsFile) : []),
    '127.0.0.1\tlocalhost localhost.localdomain',
    '::1\tlocalhost localhost.localdomain ip6-localhost ip6-loopback',
  ];
  // (A container sharing another's network has that one's address; 127.0.1.1 names it locally.)
  const own = networkMode(c).addresses().ip ?? c.networkIp ?? c.extraNetworks?.[0]?.ip ?? '127.0.1.1';
  lines.push(`${own}\t${[c.hostname, name, ...(c.aliases ?? [])].join(' ')}`);
  for (const peer of peers) lines.push(`${peer.ip}\t${peer.names.join(' ')}`);
  const hostIp = host === 'host-address' ? hostAddress() : host;
  if (hostIp) lines.push(`${hostIp}\thost.containers.internal host.docker.internal`);
  for (const entry of c.addHosts ?? []) {
    const colon = entry.indexOf(':');
    lines.push(`${entry.slice(colon + 1)}\t${entry.slice(0, colon)}`);
  }
  return `${lines.join('\n')}\n`;
};

// Name servers: --dns, else slirp4netns's forwarder, else (none/host) the host's own file. Search
// domains and options come from the host unless given.
// `nameserver`: the network's own name server (slirp4netns's, or skiff-dns at a named network's gateway).
export const resolvConf = (c: EtcConfig, nameserver: string | undefined): string => {
  const host = hostResolvConf();
  if (c.network === 'host' && !c.dns?.length && !c.dnsSearch?.length && !c.dnsOptions?.length) return host.join('\n');
  const servers = c.dns?.length ? c.dns : nameserver ? [nameserver] : host.filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]);
  const search = c.dnsSearch?.length ? c.dnsSearch : host.filter((l) => /^\s*search\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  const options = c.dnsOptions?.length ? c.dnsOptions : host.filter((l) => /^\s*options\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  const lines = [
    ...(search.length ? [`search ${search.join(' ')}`] : []),
    ...servers.map((s) => `nameserver ${s}`),
    ...(options.length ? [`options ${options.join(' ')}`] : []),
  ];
  return `${lines.join('\n')}\n`;
};
