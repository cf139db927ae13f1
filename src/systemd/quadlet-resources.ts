// .volume and .network files: a oneshot service that creates the volume or network (once, and not
// again when it exists: --ignore) and stays active, so containers can require it. Named systemd-NAME
// unless VolumeName=/NetworkName= says otherwise, as in Podman.
import {
  checkResourceName,
  fail,
  keyValuesOf,
  stringOf,
  wordsOf,
  booleanOf,
  type QuadletKind,
  type ServiceLine,
  type Translation,
} from './quadlet-translation.js';
import { entriesOf, escapeWords, type UnitSection } from './unit-file.js';

const ONESHOT: ServiceLine[] = [
  { key: 'Type', value: 'oneshot', isDefault: true },
  { key: 'RemainAfterExit', value: 'yes', isDefault: true },
  { key: 'SyslogIdentifier', value: '%N', isDefault: true },
];

// The resource's name: NAME= key, else systemd-BASE.
const nameOf = (t: Translation, own: UnitSection | undefined, key: string, kind: 'volume' | 'network'): string => {
  const named = stringOf(own, key);
  if (named) checkResourceName(t, named.entry, kind, named.value);
  return named?.value ?? `systemd-${t.base}`;
};

// The PodmanArgs= words, passed to skiff as they are.
const extraArgs = (t: Translation, own: UnitSection | undefined): string[] => entriesOf(own, 'PodmanArgs').flatMap((e) => wordsOf(t, e));

// The [Service] lines of a .volume file: skiff volume create --ignore [--opt …] [--label …] NAME.
const translateVolume = (t: Translation, own: UnitSection | undefined): ServiceLine[] => {
  const name = nameOf(t, own, 'VolumeName', 'volume');
  const create = [...t.skiff, 'volume', 'create', '--ignore'];
  const driver = stringOf(own, 'Driver');
  if (driver && driver.value !== 'local') fail(t, driver.entry.line, `invalid Driver '${driver.value}': skiff's volumes have only the local driver`);
  else if (driver) create.push(`--driver=${driver.value}`);
  // Device=, Type= and Options= describe a file system to mount, which for skiff is a tmpfs only.
  const device = stringOf(own, 'Device');
  const type = stringOf(own, 'Type');
  const options = stringOf(own, 'Options');
  if (device) create.push(`--opt=device=${device.value}`);
  for (const [key, found, opt] of [
    ['Type', type, 'type'],
    ['Options', options, 'o'],
  ] as const) {
    if (!found) continue;
    if (!device) fail(t, found.entry.line, `key ${key} can't be used without Device`);
    else create.push(`--opt=${opt}=${found.value}`);
  }
  if (type && type.value !== 'tmpfs') fail(t, type.entry.line, `invalid Type '${type.value}': skiff's volumes mount only a tmpfs (Type=tmpfs, Device=tmpfs)`);
  create.push(...keyValuesOf(t, own, 'Label').map((kv) => `--label=${kv}`), ...extraArgs(t, own), name);
  return [...ONESHOT, { key: 'ExecStart', value: escapeWords(create) }];
};

const IPV4_CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

// The [Service] lines of a .network file: skiff network create --ignore [--subnet …] … NAME.
const translateNetwork = (t: Translation, own: UnitSection | undefined): ServiceLine[] => {
  const name = nameOf(t, own, 'NetworkName', 'network');
  const create = [...t.skiff, 'network', 'create', '--ignore'];
  const driver = stringOf(own, 'Driver');
  if (driver && driver.value !== 'bridge') fail(t, driver.entry.line, `invalid Driver '${driver.value}': skiff's networks have only the bridge driver`);
  else if (driver) create.push(`--driver=${driver.value}`);
  const subnets = entriesOf(own, 'Subnet');
  for (const extra of subnets.slice(1)) fail(t, extra.line, 'skiff network create takes one Subnet= (an IPv4 one)');
  if (subnets[0] && !IPV4_CIDR.test(subnets[0].value.trim()))
    fail(t, subnets[0].line, `invalid Subnet '${subnets[0].value}': use an IPv4 CIDR such as 10.89.5.0/24`);
  else if (subnets[0]) create.push(`--subnet=${subnets[0].value.trim()}`);
  if (booleanOf(t, own, 'Internal')) create.push('--internal');
  create.push(...keyValuesOf(t, own, 'Label').map((kv) => `--label=${kv}`), ...extraArgs(t, own), name);
  const lines = [...ONESHOT, { key: 'ExecStart', value: escapeWords(create) }];
  if (booleanOf(t, own, 'NetworkDeleteOnStop')) lines.push({ key: 'ExecStopPost', value: escapeWords([...t.skiff, 'network', 'rm', name]) });
  return lines;
};

const CONFS_MODULE = 'skiff has no containers.conf modules';

export const VOLUME_KIND: QuadletKind = {
  section: 'Volume',
  keys: new Set(['VolumeName', 'Driver', 'Device', 'Type', 'Options', 'Label', 'PodmanArgs', 'GlobalArgs']),
  notInSkiff: {
    Copy: 'skiff volume create has no copy or nocopy option',
    User: 'skiff volume create has no uid= option',
    Group: 'skiff volume create has no gid= option',
    Image: 'skiff has no image volumes',
    ContainersConfModule: CONFS_MODULE,
  },
  translate: translateVolume,
};

const NO_IPAM = "skiff's networks take only --subnet, --internal and --label";

export const NETWORK_KIND: QuadletKind = {
  section: 'Network',
  keys: new Set(['NetworkName', 'Driver', 'Subnet', 'Internal', 'Label', 'NetworkDeleteOnStop', 'PodmanArgs', 'GlobalArgs']),
  notInSkiff: {
    Gateway: NO_IPAM,
    IPRange: NO_IPAM,
    IPAMDriver: NO_IPAM,
    IPv6: 'skiff networks are IPv4 only',
    DNS: NO_IPAM,
    DisableDNS: NO_IPAM,
    InterfaceName: NO_IPAM,
    Options: NO_IPAM,
    ContainersConfModule: CONFS_MODULE,
  },
  translate: translateNetwork,
};
