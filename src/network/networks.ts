// Named networks: networks/<name>.json records, subnet and address allocation. Each network is a
// bridge inside one rootless network namespace (see bridge.ts); a container on it gets a veth pair
// and a fixed address, and names resolve through the /etc/hosts files skiff keeps current.
import { mkdirSync, rmSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { listDir, readJsonIfExists, writeJsonAtomic } from '../util/fs.js';
import { withLock } from '../util/lock.js';
import { checkName, isValidName } from '../util/names.js';

export interface NetworkRecord {
  name: string;
  id: string;
  driver: 'bridge';
  /** "10.89.1.0/24" */
  subnet: string;
  gateway: string;
  internal: boolean;
  labels: Record<string, string>;
  /** --ip-range: containers get addresses from this part of the subnet only. */
  ipRange?: string;
  /** --opt KEY=VALUE, as given (mtu= is applied to the bridge). */
  options?: Record<string, string>;
  created: string;
  /** The bridge device in the rootless network namespace. */
  bridge: string;
  /** false (--disable-dns, and the default network): members do not learn each other's names. */
  dnsEnabled?: boolean;
}

// The default network (`--network bridge`, and no --network where it is the backend): Podman's
// `podman` network, made on first use. Its members do not learn each other's names (Podman's has
// no DNS either), so a container's start never rewrites the others' /etc/hosts: the cost of a
// start stays flat however many containers share it.
export const DEFAULT_NETWORK = 'podman';
const DEFAULT_SUBNET = '10.88.0.0/16';

export interface Attachment {
  network: string;
  ip: string;
  aliases: string[];
}

const ipToInt = (ip: string): number => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

export const parseSubnet = (cidr: string): { base: number; prefix: number } => {
  const match = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  const prefix = match ? Number(match[2]) : -1;
  if (!match || prefix < 8 || prefix > 30 || match[1].split('.').some((p) => Number(p) > 255))
    throw new CliError('EUSAGE', `invalid subnet "${cidr}": use IPv4 CIDR such as 10.89.5.0/24 (prefix 8 to 30)`);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return { base: (ipToInt(match[1]) & mask) >>> 0, prefix };
};

export class NetworkStore {
  private readonly dir: string;

  // `dir`: where the records are (DATA/networks, or --network-config-dir).
  constructor(dir: string) {
    this.dir = dir;
  }

  lockPath(): string {
    return join(this.dir, '..', 'locks', 'networks.lock');
  }

  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(this.lockPath(), fn, { timeoutMs: 60_000 });
  }

  list(): NetworkRecord[] {
    const names = listDir(this.dir).filter((n) => n.endsWith('.json'));
    return names.flatMap((n) => readJsonIfExists<NetworkRecord>(join(this.dir, n)) ?? []).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  get(name: string): NetworkRecord | undefined {
    if (!isValidName(name)) return undefined;
    return readJsonIfExists<NetworkRecord>(join(this.dir, `${name}.json`)) ?? this.list().find((n) => n.id.startsWith(name) && name.length >= 3);
  }

  find(name: string): NetworkRecord {
    const record = this.get(name);
    if (!record) throw new CliError('ENONETWORK', `no such network: ${name}`);
    return record;
  }

  // Creates a network (caller holds the networks lock): the next free 10.89.N.0/24 unless given.
  create(
    name: string,
    options: {
      subnet?: string;
      internal?: boolean;
      labels?: Record<string, string>;
      gateway?: string;
      ipRange?: string;
      options?: Record<string, string>;
      dnsEnabled?: boolean;
    },
    id: string,
  ): NetworkRecord {
    checkName('network', name);
    if (['none', 'host', 'slirp4netns', 'pasta', 'bridge', 'private'].includes(name))
      throw new CliError('EUSAGE', `"${name}" is a network mode, not a name for a network`);
    const existing = this.list();
    if (existing.some((n) => n.name === name)) throw new CliError('ESTATE', `network ${name} already exists: pick another name or remove it first`);
    let subnet: string;
    if (options.subnet) {
      const wanted = parseSubnet(options.subnet);
      subnet = `${intToIp(wanted.base)}/${wanted.prefix}`;
      const clash = existing.find((n) => overlaps(n.subnet, subnet));
      if (clash) throw new CliError('ESTATE', `subnet ${subnet} overlaps network ${clash.name} (${clash.subnet})`);
    } else {
      const free = Array.from({ length: 255 }, (_, i) => `10.89.${i + 1}.0/24`).find((s) => !existing.some((n) => overlaps(n.subnet, s)));
      if (!free) throw new CliError('ESTATE', 'no free subnet left in 10.89.0.0/16: give one with --subnet');
      subnet = free;
    }
    const { base, prefix } = parseSubnet(subnet);
    const inside = (ip: string) => {
      const n = ipToInt(ip);
      return n > base && n < base + 2 ** (32 - prefix) - 1;
    };
    if (options.gateway !== undefined && (!isIPv4(options.gateway) || !inside(options.gateway)))
      throw new CliError('EUSAGE', `invalid --gateway ${options.gateway}: use a host address inside ${subnet}`);
    let ipRange: string | undefined;
    if (options.ipRange !== undefined) {
      const range = parseSubnet(options.ipRange);
      ipRange = `${intToIp(range.base)}/${range.prefix}`;
      if (range.prefix < prefix || !overlaps(ipRange, subnet))
        throw new CliError('EUSAGE', `invalid --ip-range ${options.ipRange}: it must lie inside ${subnet}`);
    }
    const used = new Set(existing.map((n) => n.bridge));
    const bridge = Array.from({ length: 1000 }, (_, i) => `skiff${i}`).find((b) => !used.has(b))!;
    const record: NetworkRecord = {
      name,
      id,
      driver: 'bridge',
      subnet,
      gateway: options.gateway ?? intToIp(base + 1),
      internal: Boolean(options.internal),
      labels: options.labels ?? {},
      ...(ipRange ? { ipRange } : {}),
      ...(options.options && Object.keys(options.options).length ? { options: options.options } : {}),
      created: new Date().toISOString(),
      bridge,
      ...(options.dnsEnabled === false ? { dnsEnabled: false } : {}),
    };
    mkdirSync(this.dir, { recursive: true });
    writeJsonAtomic(join(this.dir, `${name}.json`), record);
    return record;
  }

  // The default network's name, its record made when missing (on 10.88.0.0/16 unless a network
  // of the user's has that: then the next free subnet).
  async ensureDefault(id: () => string): Promise<string> {
    if (this.get(DEFAULT_NETWORK)) return DEFAULT_NETWORK;
    await this.withLock(async () => {
      if (this.get(DEFAULT_NETWORK)) return;
      const taken = this.list().some((n) => overlaps(n.subnet, DEFAULT_SUBNET));
      this.create(DEFAULT_NETWORK, { ...(taken ? {} : { subnet: DEFAULT_SUBNET }), dnsEnabled: false }, id());
    });
    return DEFAULT_NETWORK;
  }

  remove(name: string): void {
    rmSync(join(this.dir, `${name}.json`), { force: true });
  }

  // The address a container asked for (--ip), checked: a host address of the subnet, free.
  claim(network: NetworkRecord, wanted: string, used: string[]): string {
    const { base, prefix } = parseSubnet(network.subnet);
    const n = isIPv4(wanted) ? ipToInt(wanted) : Number.NaN;
    if (!(n > base && n < base + 2 ** (32 - prefix) - 1) || wanted === network.gateway)
      throw new CliError(
        'EUSAGE',
        `invalid --ip ${wanted}: use a free host address of network ${network.name} (${network.subnet}, gateway ${network.gateway})`,
      );
    if (used.includes(wanted)) throw new CliError('ESTATE', `address ${wanted} is in use on network ${network.name}: pick another or leave --ip out`);
    return wanted;
  }

  // The lowest free host address of the network, given the addresses in use.
  allocate(network: NetworkRecord, used: string[]): string {
    const subnet = parseSubnet(network.subnet);
    const { base, prefix } = network.ipRange ? parseSubnet(network.ipRange) : subnet;
    const size = 2 ** (32 - prefix);
    const last = subnet.base + 2 ** (32 - subnet.prefix) - 1; // the broadcast address
    const taken = new Set([network.gateway, ...used]);
    for (let n = 0; n < size; n++) {
      const at = base + n;
      if (at <= subnet.base || at >= last) continue;
      const ip = intToIp(at);
      if (!taken.has(ip)) return ip;
    }
    throw new CliError('ESTATE', `network ${network.name} has no free address left in ${network.subnet}`);
  }
}

const overlaps = (a: string, b: string): boolean => {
  const x = parseSubnet(a);
  const y = parseSubnet(b);
  const prefix = Math.min(x.prefix, y.prefix);
  const mask = (~0 << (32 - prefix)) >>> 0;
  return (x.base & mask) >>> 0 === (y.base & mask) >>> 0;
};

export const prefixOf = (subnet: string): number => parseSubnet(subnet).prefix;
