// A .container file's [Container] section as `skiff run` flags, and the [Service] that runs them: as
// Podman's Quadlet does, the service is Type=notify, its main process the container's monitor
// (skiff run -d --sdnotify=conmon), KillMode=mixed, and the container is removed when it stops.
//
// Keys Podman has and skiff cannot honour are refused, never dropped: a unit that silently ran
// without a time zone, an annotation or a secret it asked for would be worse than none. Two
// decisions of note: Timezone= is refused (skiff run has no --tz; the container would run on the
// image's zone); SecurityLabelDisable= is accepted and changes nothing, as skiff never applies SELinux
// labels, while SecurityLabelType=/FileType=/Level=/Nested= are refused, as they ask for a
// confinement skiff does not give.
import {
  absolutePath,
  booleanOf,
  checkResourceName,
  fail,
  keyValuesOf,
  resolveRef,
  stringOf,
  wordsOf,
  type QuadletKind,
  type ServiceLine,
  type Translation,
} from './quadlet-translation.js';
import { checkPublishPort, isDuration, isInteger, parseBoolean } from './quadlet-values.js';
import { entriesOf, escapeWords, lastOf, unquote, type UnitSection } from './unit-file.js';

// The label `skiff auto-update` (like Podman's) would read.
const AUTO_UPDATE_LABEL = 'io.containers.autoupdate';

// Where the container's id is kept, per unit instance, for the stop commands.
const CIDFILE = '%t/%N.cid';

// Keys that become one `--flag=VALUE` from their last value, each with its check (undefined: any).
const SINGLE: [key: string, flag: string, check?: (v: string) => string | undefined][] = [
  ['HostName', 'hostname'],
  ['WorkingDir', 'workdir', (v) => (v.startsWith('/') || v.startsWith('%') ? undefined : 'use an absolute path')],
  ['Entrypoint', 'entrypoint'],
  ['StopSignal', 'stop-signal', (v) => (/^(SIG)?[A-Z0-9+-]+$/i.test(v) ? undefined : 'use a signal name or number (SIGTERM, 15)')],
  ['StopTimeout', 'stop-timeout', (v) => (isInteger(v) ? undefined : 'use a whole number of seconds')],
  ['Pull', 'pull', (v) => (['missing', 'always', 'never'].includes(v) ? undefined : 'use missing, always or never (skiff run --pull has no other policy)')],
  ['Memory', 'memory', (v) => (/^\d+(\.\d+)?[bkmgt]?$/i.test(v) ? undefined : 'use a size such as 512m or 1g')],
  ['PidsLimit', 'pids-limit', (v) => (isInteger(v, true) ? undefined : 'use a whole number (-1: unlimited)')],
  ['UserNS', 'userns'],
];

// Keys that may repeat, each value one `--flag=VALUE`.
const REPEATED: [key: string, flag: string, check?: (v: string) => string | undefined][] = [
  ['NetworkAlias', 'network-alias'],
  ['DNS', 'dns'],
  ['DNSSearch', 'dns-search'],
  ['DNSOption', 'dns-option'],
  ['AddHost', 'add-host', (v) => (v.includes(':') ? undefined : 'use NAME:IP')],
  ['Ulimit', 'ulimit', (v) => (/^[a-z]+=-?\d+(:-?\d+)?$/.test(v) ? undefined : 'use TYPE=SOFT[:HARD] (nofile=1024:2048)')],
  ['Tmpfs', 'tmpfs', (v) => (v.startsWith('/') ? undefined : 'use an absolute path in the container, then :OPTIONS')],
  ['LogOpt', 'log-opt'],
  ['UIDMap', 'uidmap'],
  ['GIDMap', 'gidmap'],
];

// The --health-* flags, in Podman's order.
const HEALTH: [key: string, flag: string, check?: (v: string) => string | undefined][] = [
  ['HealthCmd', 'health-cmd'],
  ['HealthInterval', 'health-interval', (v) => (v === 'disable' || isDuration(v) ? undefined : 'use a duration such as 30s or 1m, or disable')],
  ['HealthOnFailure', 'health-on-failure', (v) => (['none', 'kill', 'restart', 'stop'].includes(v) ? undefined : 'use none, kill, restart or stop')],
  ['HealthRetries', 'health-retries', (v) => (isInteger(v) ? undefined : 'use a whole number')],
  ['HealthStartPeriod', 'health-start-period', (v) => (isDuration(v) ? undefined : 'use a duration such as 30s or 1m')],
  ['HealthTimeout', 'health-timeout', (v) => (isDuration(v) ? undefined : 'use a duration such as 30s or 1m')],
];

const OTHER_KEYS = [
  'Image',
  'Exec',
  'ContainerName',
  'GlobalArgs',
  'CgroupsMode',
  'Notify',
  'PublishPort',
  'Volume',
  'Mount',
  'Network',
  'Environment',
  'EnvironmentFile',
  'Label',
  'User',
  'Group',
  'AddCapability',
  'DropCapability',
  'ReadOnly',
  'ReadOnlyTmpfs',
  'RunInit',
  'NoNewPrivileges',
  'SeccompProfile',
  'SecurityLabelDisable',
  'AddDevice',
  'AutoUpdate',
  'PodmanArgs',
];

const KEYS = new Set([...SINGLE, ...REPEATED, ...HEALTH].map(([key]) => key).concat(OTHER_KEYS));

const NO_SELINUX = 'skiff applies no SELinux labels, so it cannot give the confinement this asks for';

const NOT_IN_SKIFF: Record<string, string> = {
  Annotation: 'skiff run has no --annotation',
  Timezone: "skiff run has no --tz (the container would run on the image's time zone)",
  SecurityLabelType: NO_SELINUX,
  SecurityLabelFileType: NO_SELINUX,
  SecurityLabelLevel: NO_SELINUX,
  SecurityLabelNested: NO_SELINUX,
  Secret: 'skiff has no secrets',
  Pod: 'skiff has no pods',
  StartWithPod: 'skiff has no pods',
  Rootfs: 'skiff run takes an image, not a root file system',
  ShmSize: 'skiff run has no --shm-size',
  Sysctl: 'skiff run has no --sysctl',
  GroupAdd: 'skiff run has no --group-add',
  IP: 'skiff run has no --ip',
  IP6: 'skiff run has no --ip6',
  ExposeHostPort: 'skiff run has no --expose',
  EnvironmentHost: 'skiff run has no --env-host',
  LogDriver: 'skiff run has no --log-driver (it keeps its own log)',
  Mask: 'skiff run has no --security-opt mask=',
  Unmask: 'skiff run has no --security-opt unmask=',
  SubUIDMap: 'skiff run has no --subuidname',
  SubGIDMap: 'skiff run has no --subgidname',
  ContainersConfModule: 'skiff has no containers.conf modules',
  Retry: 'skiff run has no --retry',
  RetryDelay: 'skiff run has no --retry-delay',
  ReloadCmd: 'not yet translated by skiff (use ExecReload= in [Service])',
  ReloadSignal: 'not yet translated by skiff (use ExecReload= in [Service])',
  ServiceName: 'not yet translated by skiff (the service is named after the file)',
  HealthStartupCmd: 'skiff run has no --health-startup-*',
  HealthStartupInterval: 'skiff run has no --health-startup-*',
  HealthStartupRetries: 'skiff run has no --health-startup-*',
  HealthStartupSuccess: 'skiff run has no --health-startup-*',
  HealthStartupTimeout: 'skiff run has no --health-startup-*',
  HealthLogDestination: 'skiff run has no --health-log-destination',
  HealthMaxLogCount: 'skiff run has no --health-max-log-count',
  HealthMaxLogSize: 'skiff run has no --health-max-log-size',
  RemapUsers: 'deprecated in Podman: use UserNS=',
  RemapUid: 'deprecated in Podman: use UIDMap=',
  RemapGid: 'deprecated in Podman: use GIDMap=',
  RemapUidSize: 'deprecated in Podman: use UserNS=auto:size=N',
  VolatileTmp: 'deprecated in Podman: use Tmpfs=/tmp',
};

// Flags of keys checked by a table (SINGLE, REPEATED, HEALTH).
const tableFlags = (t: Translation, c: UnitSection | undefined, table: typeof SINGLE, repeated: boolean): string[] =>
  table.flatMap(([key, flag, check]) => {
    const entries = repeated ? entriesOf(c, key) : [lastOf(c, key)].filter((e) => e !== undefined);
    return entries.flatMap((entry) => {
      const value = repeated ? entry.value.trim() : unquote(entry.value);
      if (!value) return [];
      const wrong = check?.(value);
      if (wrong) fail(t, entry.line, `invalid ${key} '${value}': ${wrong}`);
      return wrong ? [] : [`--${flag}=${value}`];
    });
  });

// A host side of a -v or --mount: ./x made absolute, data.volume made its volume's name (and a
// dependency on its service), an absolute path a RequiresMountsFor=.
const resolveSource = (t: Translation, line: number, source: string): string | undefined => {
  if (source.startsWith('.')) source = absolutePath(t, source);
  if (source.startsWith('/')) t.unit.push({ key: 'RequiresMountsFor', value: escapeWords([source]), line: 0 });
  else if (source.endsWith('.volume')) return resolveRef(t, line, source);
  return source;
};

// Volume=[SOURCE:]DEST[:OPTIONS] as -v.
const volumeFlags = (t: Translation, c: UnitSection | undefined): string[] =>
  entriesOf(c, 'Volume').flatMap((entry) => {
    const [first, second, ...rest] = entry.value.trim().split(':');
    const [source, dest] = second === undefined ? [undefined, first] : [first, second];
    if (!dest || !(dest.startsWith('/') || dest.startsWith('%'))) {
      fail(t, entry.line, `invalid Volume '${entry.value}': use [SOURCE:]/PATH-IN-CONTAINER[:OPTIONS]`);
      return [];
    }
    const host = source && resolveSource(t, entry.line, source);
    if (source && !host) return [];
    return [`--volume=${[host, dest, ...rest].filter((p) => p !== undefined).join(':')}`];
  });

// Mount=type=…,source=…,… as --mount, with the source of a bind or volume resolved.
const mountFlags = (t: Translation, c: UnitSection | undefined): string[] =>
  entriesOf(c, 'Mount').flatMap((entry) =>
    wordsOf(t, entry).flatMap((mount) => {
      const fields = mount.split(',');
      const type = fields.find((f) => f.startsWith('type='))?.slice(5);
      if (!type) {
        fail(t, entry.line, `invalid Mount '${mount}': name its type= (bind, volume or tmpfs)`);
        return [];
      }
      const rest = fields.filter((f) => !f.startsWith('type='));
      const at = rest.findIndex((f) => /^(source|src)=/.test(f));
      if (at >= 0 && (type === 'bind' || type === 'volume')) {
        const source = resolveSource(t, entry.line, rest[at].slice(rest[at].indexOf('=') + 1));
        if (!source) return [];
        rest[at] = `source=${source}`;
      }
      return [`--mount=${[`type=${type}`, ...rest].join(',')}`];
    }),
  );

// Network= as --network: data.network becomes its network's name, web.container container:ITS-NAME.
const networkFlags = (t: Translation, c: UnitSection | undefined): string[] =>
  entriesOf(c, 'Network').flatMap((entry) => {
    const value = entry.value.trim();
    const colon = value.indexOf(':');
    const [name, options] = colon < 0 ? [value, undefined] : [value.slice(0, colon), value.slice(colon)];
    if (!name.endsWith('.network') && !name.endsWith('.container')) return [`--network=${value}`];
    if (name.endsWith('.container') && options) {
      fail(t, entry.line, `invalid Network '${value}': joining another container's network takes no options`);
      return [];
    }
    const resolved = resolveRef(t, entry.line, name);
    if (!resolved) return [];
    return [`--network=${name.endsWith('.container') ? `container:${resolved}` : `${resolved}${options ?? ''}`}`];
  });

// The rest of the run flags, in Podman's order.
const otherFlags = (t: Translation, c: UnitSection | undefined): string[] => {
  const flags: string[] = [];
  for (const [key, flag] of [
    ['RunInit', '--init'],
    ['ReadOnly', '--read-only'],
    ['NoNewPrivileges', '--security-opt=no-new-privileges'],
  ])
    if (booleanOf(t, c, key)) flags.push(flag);
  const tmpfs = booleanOf(t, c, 'ReadOnlyTmpfs');
  if (tmpfs !== undefined) flags.push(`--read-only-tmpfs=${tmpfs}`);
  booleanOf(t, c, 'SecurityLabelDisable');
  flags.push(...networkFlags(t, c));
  for (const entry of entriesOf(c, 'AddDevice'))
    for (const device of wordsOf(t, entry)) {
      // A leading - makes the device optional: added only where the host has it.
      const optional = device.startsWith('-');
      const spec = optional ? device.slice(1) : device;
      if (!optional || (t.context.exists?.(spec.split(':')[0]) ?? true)) flags.push(`--device=${spec}`);
    }
  const seccomp = stringOf(c, 'SeccompProfile');
  if (seccomp) flags.push(`--security-opt=seccomp=${seccomp.value}`);
  for (const [key, flag] of [
    ['DropCapability', 'cap-drop'],
    ['AddCapability', 'cap-add'],
  ])
    for (const entry of entriesOf(c, key)) flags.push(...wordsOf(t, entry).map((cap) => `--${flag}=${cap.toLowerCase()}`));
  const user = stringOf(c, 'User');
  const group = stringOf(c, 'Group');
  if (group && !user) fail(t, group.entry.line, 'invalid Group set without User');
  if (user) flags.push(`--user=${user.value}${group ? `:${group.value}` : ''}`);
  flags.push(...volumeFlags(t, c));
  const update = stringOf(c, 'AutoUpdate');
  if (update && !['registry', 'local'].includes(update.value)) fail(t, update.entry.line, `invalid AutoUpdate '${update.value}': use registry or local`);
  else if (update) flags.push(`--label=${AUTO_UPDATE_LABEL}=${update.value}`);
  for (const entry of entriesOf(c, 'PublishPort')) {
    const wrong = checkPublishPort(entry.value.trim());
    if (wrong) fail(t, entry.line, `invalid PublishPort '${entry.value.trim()}': ${wrong}; use [[IP:][HOST-PORT]:]CONTAINER-PORT[/PROTOCOL]`);
    else flags.push(`--publish=${entry.value.trim()}`);
  }
  flags.push(...keyValuesOf(t, c, 'Environment').map((kv) => `--env=${kv}`));
  flags.push(...keyValuesOf(t, c, 'Label').map((kv) => `--label=${kv}`));
  for (const entry of entriesOf(c, 'EnvironmentFile')) flags.push(...wordsOf(t, entry).map((f) => `--env-file=${absolutePath(t, f)}`));
  flags.push(...mountFlags(t, c));
  return flags;
};

// How the service tells systemd it is up: the monitor's READY (conmon), or the container's own
// sd_notify when Notify=yes; a oneshot service runs skiff in the foreground instead.
const notifyWords = (t: Translation, c: UnitSection | undefined): string[] => {
  const entry = lastOf(c, 'Notify');
  if (!entry) return ['--sdnotify=conmon', '-d'];
  const value = unquote(entry.value);
  const yes = parseBoolean(value);
  if (yes === undefined) {
    const healthy = value.toLowerCase() === 'healthy' ? ' (Notify=healthy is not supported by skiff)' : '';
    fail(t, entry.line, `invalid Notify '${value}': use a boolean (yes: the container notifies; no: skiff does)${healthy}`);
  }
  return [`--sdnotify=${yes ? 'container' : 'conmon'}`, '-d'];
};

// Checks what of the user's [Service] a container's unit cannot take.
const checkService = (t: Translation, service: UnitSection | undefined): void => {
  const type = lastOf(service, 'Type');
  if (type && !['notify', 'oneshot'].includes(type.value))
    fail(t, type.line, `invalid Type '${type.value}' in [Service]: a container's service is notify (the default) or oneshot`);
  const kill = lastOf(service, 'KillMode');
  if (kill && !['mixed', 'control-group'].includes(kill.value))
    fail(t, kill.line, `invalid KillMode '${kill.value}' in [Service]: use mixed (the default) or control-group`);
  const start = lastOf(service, 'ExecStart');
  if (start) fail(t, start.line, "ExecStart= in [Service]: the [Container] section makes the service's command (Exec= gives the container's)");
};

// The [Service] lines of a .container file.
const translate = (t: Translation, c: UnitSection | undefined, service: UnitSection | undefined): ServiceLine[] => {
  checkService(t, service);
  const image = stringOf(c, 'Image');
  if (!image) fail(t, c?.line ?? 1, `no Image key specified in ${c ? '[Container]' : 'the file (it has no [Container] section)'}`);
  const named = stringOf(c, 'ContainerName');
  if (named) checkResourceName(t, named.entry, 'container', named.value);
  const name = named?.value ?? (t.base.includes('@') ? 'systemd-%p_%i' : 'systemd-%N');
  const cgroups = stringOf(c, 'CgroupsMode');
  if (cgroups && !['enabled', 'disabled', 'no-conmon', 'split'].includes(cgroups.value))
    fail(t, cgroups.entry.line, `invalid CgroupsMode '${cgroups.value}': use split (the default), enabled, disabled or no-conmon`);
  const oneshot = lastOf(service, 'Type')?.value === 'oneshot';
  const run = [...t.skiff, 'run', `--name=${name}`, `--cidfile=${CIDFILE}`, '--replace', '--rm', `--cgroups=${cgroups?.value ?? 'split'}`];
  const notify = notifyWords(t, c);
  if (!oneshot) run.push(...notify);
  run.push(...tableFlags(t, c, SINGLE, false), ...tableFlags(t, c, REPEATED, true), ...otherFlags(t, c), ...tableFlags(t, c, HEALTH, false));
  run.push(...entriesOf(c, 'PodmanArgs').flatMap((e) => wordsOf(t, e)));
  const exec = lastOf(c, 'Exec');
  run.push(image?.value ?? '', ...(exec ? wordsOf(t, exec) : []));
  // Stopped with its stop signal and timeout (rm -f would kill it at once), then removed.
  const stop = [...t.skiff, 'stop', '--ignore', `--cidfile=${CIDFILE}`];
  const remove = [...t.skiff, 'rm', '-v', '-f', '-i', `--cidfile=${CIDFILE}`];
  return [
    { key: 'Environment', value: 'SKIFF_SYSTEMD_UNIT=%n' },
    { key: 'KillMode', value: 'mixed', isDefault: true },
    { key: 'Delegate', value: 'yes', isDefault: true },
    ...(oneshot
      ? []
      : [
          { key: 'Type', value: 'notify', isDefault: true },
          { key: 'NotifyAccess', value: 'all', isDefault: true },
        ]),
    { key: 'SyslogIdentifier', value: '%N', isDefault: true },
    // A cid file left by a crash (the unit killed before ExecStopPost ran) would make the next
    // --cidfile run refuse to start, as Podman's does.
    { key: 'ExecStartPre', value: `/bin/rm -f ${CIDFILE}` },
    { key: 'ExecStart', value: escapeWords(run) },
    { key: 'ExecStop', value: escapeWords(stop) },
    // Runs after ExecStop=, and when the monitor itself was killed, when ExecStop= does not.
    { key: 'ExecStopPost', value: `-${escapeWords(remove)}` },
    // The monitor exits with the container's code: 143 is the stop signal's doing, not a failure.
    { key: 'SuccessExitStatus', value: '143', isDefault: true },
  ];
};

export const CONTAINER_KIND: QuadletKind = { section: 'Container', keys: KEYS, notInSkiff: NOT_IN_SKIFF, translate };
