// A container's network mode as one object: pasta, slirp4netns (each with its options), none,
// host, container:NAME, ns:PATH, or a named network. Each answers what the rest of skiff asks of a mode: which helper the monitor runs
// (and with what), which network namespace the runtime spec gives, what goes into /etc/hosts and
// /etc/resolv.conf, the addresses inspect shows, and how published ports are split between the
// helper, the monitor and slirp4netns's API. Nothing else branches on the mode's name.
import { CliError } from '../errors.js';
import { checkPastaOptions, pastaAddresses, pastaHelperArgs, pastaOptionAddresses, PASTA_DNS } from './pasta.js';
import type { PortMapping } from './ports.js';
import { parseSlirpOptions, SLIRP_GATEWAY, slirpAddresses, slirpHelperArgs } from './slirp.js';

export type NetworkModeKind = 'pasta' | 'slirp4netns' | 'none' | 'host' | 'container' | 'ns' | 'named';

/** What a container's configuration says of its network. */
export interface NetworkConfig {
  network: string;
  namedNetwork?: boolean;
  /** slirp4netns:OPTIONS or pasta:OPTIONS, split at the commas. */
  networkOptions?: string[];
}

/** Where the container's own files are, for the modes that need them. */
export interface ModePaths {
  /** The file pasta's namespace is bound to. */
  netnsPath: string;
  /** pasta's pid file. */
  pastaPidFile: string;
  /** slirp4netns's API socket. */
  slirpSocket: string;
}

/** How published ports are forwarded. */
export interface PortPlan {
  /** By the network helper itself (pasta: TCP, keeping the client's address). */
  viaHelper: PortMapping[];
  /** By skiff-monitor, socket to socket (IPv4). */
  viaMonitor: PortMapping[];
  /** Through slirp4netns's API once the container exists (IPv6 host addresses). */
  viaSlirpApi: PortMapping[];
}

export interface NetworkMode {
  readonly kind: NetworkModeKind;
  /** The helper binary's name and Debian package, when the monitor runs one. */
  readonly helper?: { binary: string; package: string };
  /** The helper's arguments (after its binary), given the ports it forwards itself. */
  helperArgs(paths: ModePaths, viaHelper: PortMapping[]): string[];
  /** The network namespace in the runtime spec: the host's, a new one, or one bound to a file. */
  namespace(paths: ModePaths, sharedNetns: () => string): 'host' | 'private' | { path: string };
  /** The name server for /etc/resolv.conf (undefined: the host's). `gateway`: a named network's. */
  nameserver(gateway?: string): string | undefined;
  /** host.containers.internal for /etc/hosts ('host-address': the host's own), given whether a named network has a way out. */
  hostAddress(outward: boolean): string | undefined;
  /** The container's address and gateway as inspect shows them. */
  addresses(): { ip?: string; gateway?: string };
  /** Splits the published ports between helper, monitor and slirp4netns's API. */
  planPorts(ports: PortMapping[]): PortPlan;
}

// The monitor forwards what it can: IPv4 host addresses.
const monitorOnly = (ports: PortMapping[]): PortPlan => ({ viaHelper: [], viaMonitor: ports.filter((p) => !p.hostIp.includes(':')), viaSlirpApi: [] });

const pastaMode = (options: string[]): NetworkMode => ({
  kind: 'pasta',
  helper: { binary: 'pasta', package: 'passt' },
  helperArgs: (paths, viaHelper) => pastaHelperArgs(viaHelper, paths.pastaPidFile, options),
  namespace: (paths) => ({ path: paths.netnsPath }),
  nameserver: () => PASTA_DNS,
  hostAddress: () => pastaOptionAddresses(options).gateway ?? pastaAddresses()?.gateway,
  addresses: () => {
    const found = pastaAddresses();
    const given = pastaOptionAddresses(options);
    return { ip: given.address ?? found?.address, gateway: given.gateway ?? found?.gateway };
  },
  // pasta forwards TCP itself (keeping a remote client's address); the monitor forwards the rest
  // over IPv4 (UDP replies come back: Debian 12's pasta loses replies to loopback clients).
  planPorts: (ports) => {
    const viaHelper = ports.filter((p) => p.protocol === 'tcp');
    return { viaHelper, viaMonitor: ports.filter((p) => !viaHelper.includes(p) && !p.hostIp.includes(':')), viaSlirpApi: [] };
  },
});

const slirpMode = (options: string[]): NetworkMode => {
  const parsed = parseSlirpOptions(options);
  const at = slirpAddresses(parsed);
  return {
    kind: 'slirp4netns',
    helper: { binary: 'slirp4netns', package: 'slirp4netns' },
    helperArgs: (paths) => slirpHelperArgs(paths.slirpSocket, parsed),
    namespace: () => 'private',
    nameserver: () => at.dns,
    // The gateway is the host's loopback with allow_host_loopback=true; else the host's own address.
    hostAddress: () => (parsed.allowHostLoopback ? at.gateway : 'host-address'),
    addresses: () => ({ ip: at.guest, gateway: at.gateway }),
    // The monitor forwards IPv4 host addresses; slirp4netns's API the IPv6 ones (port_handler=slirp4netns: all).
    planPorts: (ports) =>
      parsed.portHandler === 'slirp4netns'
        ? { viaHelper: [], viaMonitor: [], viaSlirpApi: ports }
        : { viaHelper: [], viaMonitor: ports.filter((p) => !p.hostIp.includes(':')), viaSlirpApi: ports.filter((p) => p.hostIp.includes(':')) },
  };
};

const plain = (kind: NetworkModeKind, namespace: NetworkMode['namespace']): NetworkMode => ({
  kind,
  helperArgs: () => [],
  namespace,
  nameserver: (gateway) => gateway,
  // Through a named network's way out (slirp4netns in skiff's network namespace), if it has one.
  hostAddress: (outward) => (outward ? SLIRP_GATEWAY : undefined),
  addresses: () => ({}),
  planPorts: monitorOnly,
});

const NONE = plain('none', () => 'private');
const HOST = plain('host', () => 'host');
// The monitor makes the namespace at netnsPath and joins it to the network's bridge (--bridge-attach).
const NAMED = plain('named', (paths) => ({ path: paths.netnsPath }));
const CONTAINER = plain('container', (_paths, sharedNetns) => ({ path: sharedNetns() }));
// ns:PATH: a network namespace made elsewhere (its file, or /proc/PID/ns/net), joined as it is.
const nsMode = (path: string): NetworkMode => plain('ns', () => ({ path }));

export const networkMode = (config: NetworkConfig): NetworkMode => {
  if (config.namedNetwork) return NAMED;
  if (config.network.startsWith('container:')) return CONTAINER;
  if (config.network.startsWith('ns:')) return nsMode(config.network.slice(3));
  switch (config.network) {
    case 'pasta':
      return pastaMode(config.networkOptions ?? []);
    case 'slirp4netns':
      return slirpMode(config.networkOptions ?? []);
    case 'host':
      return HOST;
    default:
      return NONE;
  }
};

// --network as Podman writes it: MODE[:OPTIONS] (slirp4netns:cidr=...,mtu=..., pasta:-a,ADDR),
// ns:PATH, private (the default network); anything else is kept as it is (none, host,
// container:NAME, a named network). The options are checked here, before anything is made.
export const parseNetworkSpec = (spec: string, defaultNetwork: string): { network: string; networkOptions?: string[] } => {
  if (spec === 'private') return { network: defaultNetwork };
  const colon = spec.indexOf(':');
  const [mode, rest] = colon < 0 ? [spec, undefined] : [spec.slice(0, colon), spec.slice(colon + 1)];
  if (mode === 'ns') {
    if (!rest?.startsWith('/')) throw new CliError('EUSAGE', `invalid --network ${spec}: use ns:PATH, the absolute path of a network namespace file`);
    return { network: `ns:${rest}` };
  }
  if ((mode !== 'slirp4netns' && mode !== 'pasta') || rest === undefined) return { network: spec };
  const networkOptions = rest.split(',').filter(Boolean);
  if (mode === 'slirp4netns') parseSlirpOptions(networkOptions);
  else checkPastaOptions(networkOptions);
  return { network: mode, ...(networkOptions.length ? { networkOptions } : {}) };
};
