// containers.conf(5), as Podman reads it: /usr/share/containers/containers.conf, then
// /etc/containers/containers.conf and its containers.conf.d drop-ins, then the user's
// $XDG_CONFIG_HOME/containers/containers.conf and drop-ins ($CONTAINERS_CONF: that file alone;
// $CONTAINERS_CONF_OVERRIDE: read last). A later file overrides the keys it sets. Settings with an
// equivalent in skiff are kept; the others are named in one debug line each and left alone.
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { log } from '../util/log.js';
import { dropInFiles, expectBool, expectInteger, expectString, expectStrings, isTable, readTomlFile, type TomlDoc } from './toml-files.js';

// [containers]: defaults for new containers, each below the matching create/run flag.
export interface ContainerDefaults {
  dnsServers?: string[];
  dnsOptions?: string[];
  dnsSearches?: string[];
  /** base_hosts_file: an absolute path whose entries start every /etc/hosts; "none": no base. */
  baseHostsFile?: string;
  env?: string[];
  /** default_capabilities, CAP_ names. */
  capabilities?: string[];
  /** default_ulimits, as --ulimit takes them ("nofile=1024:2048"). */
  ulimits?: string[];
  tz?: string;
  umask?: string;
  logDriver?: 'k8s-file' | 'none';
  /** log_size_max in bytes; -1: no rotation. */
  logSizeMax?: number;
  /** pids_limit; 0 or less: none. */
  pidsLimit?: number;
  shmSize?: string;
  init?: boolean;
  initPath?: string;
  userns?: string;
  /** netns: the default network mode (pasta, slirp4netns, host, none; bridge: network.default_network). */
  netns?: string;
}

export interface ContainersConf {
  containers: ContainerDefaults;
  engine: {
    runtime?: string;
    /** [engine.runtimes]: a runtime's name → the paths to look for it at. */
    runtimes: Record<string, string[]>;
    hooksDir?: string[];
    eventsLogfilePath?: string;
    eventsLogger?: 'file' | 'none';
    tmpDir?: string;
    cgroupManager?: 'systemd' | 'cgroupfs';
  };
  network: { backend?: 'pasta' | 'slirp4netns'; defaultNetwork?: string };
  /** The files read, in order. */
  files: string[];
  /** The file that set each key ("containers.env"), for messages. */
  origins: Record<string, string>;
}

// The files Podman reads, in order (`root`: a prefix for /usr and /etc, for tests).
export const containersConfFiles = (env: NodeJS.ProcessEnv, root = ''): { files: string[]; required: string[] } => {
  const override = env.CONTAINERS_CONF_OVERRIDE ? [env.CONTAINERS_CONF_OVERRIDE] : [];
  if (env.CONTAINERS_CONF) return { files: [env.CONTAINERS_CONF, ...override], required: [env.CONTAINERS_CONF, ...override] };
  const etc = join(root, '/etc/containers/containers.conf');
  const user = join(env.XDG_CONFIG_HOME || join(env.HOME ?? '/', '.config'), 'containers/containers.conf');
  return {
    files: [join(root, '/usr/share/containers/containers.conf'), etc, ...dropInFiles(`${etc}.d`), user, ...dropInFiles(`${user}.d`), ...override],
    required: override,
  };
};

// Tables merge key by key; any other value replaces the earlier one.
const mergeInto = (target: TomlDoc, source: TomlDoc, file: string, origins: Record<string, string>, path = ''): void => {
  for (const [key, value] of Object.entries(source)) {
    const here = path ? `${path}.${key}` : key;
    if (isTable(value) && isTable(target[key])) mergeInto(target[key] as TomlDoc, value, file, origins, here);
    else {
      target[key] = value;
      origins[here] = file;
      if (isTable(value)) for (const inner of Object.keys(value)) origins[`${here}.${inner}`] = file;
    }
  }
};

// What skiff does with the keys it does not take over: why, in the debug line.
const UNUSED_NOTES: Record<string, string> = {
  'engine.conmon_path': "skiff runs its own monitor (skiff-monitor; --conmon sets another's path)",
  'engine.conmon_env_vars': 'skiff runs its own monitor (skiff-monitor)',
  'engine.network_cmd_path': 'skiff runs pasta or slirp4netns from PATH',
};

const USED = new Set([
  'containers.dns_servers',
  'containers.dns_options',
  'containers.dns_searches',
  'containers.base_hosts_file',
  'containers.env',
  'containers.default_capabilities',
  'containers.default_ulimits',
  'containers.tz',
  'containers.umask',
  'containers.log_driver',
  'containers.log_size_max',
  'containers.pids_limit',
  'containers.shm_size',
  'containers.init',
  'containers.init_path',
  'containers.userns',
  'containers.netns',
  'engine.runtime',
  'engine.runtimes',
  'engine.hooks_dir',
  'engine.events_logfile_path',
  'engine.events_logger',
  'engine.tmp_dir',
  'engine.cgroup_manager',
  'engine.image_default_transport',
  'network.default_rootless_network_cmd',
  'network.default_network',
]);

const SIZE_RE = /^\d+(?:\.\d+)?\s*[bkmg]?$/i;
const ULIMIT_RE = /^[a-z]+=-?\d+(?::-?\d+)?$/;

// Interprets the merged document: a value skiff uses and cannot take fails naming its file; a
// value with no equivalent in skiff is noted at debug level and left alone.
const interpret = (doc: TomlDoc, origins: Record<string, string>, files: string[]): ContainersConf => {
  const conf: ContainersConf = { containers: {}, engine: { runtimes: {} }, network: {}, files, origins };
  const fileOf = (key: string) => origins[key] ?? 'containers.conf';
  const section = (name: string): TomlDoc => (isTable(doc[name]) ? (doc[name] as TomlDoc) : {});
  for (const name of Object.keys(doc)) {
    if (!isTable(doc[name])) continue;
    for (const [key, value] of Object.entries(doc[name] as TomlDoc)) {
      const full = `${name}.${key}`;
      // (An empty table, such as the distribution file's [engine.volume_plugins], sets nothing.)
      if (USED.has(full) || (isTable(value) && Object.keys(value).length === 0)) continue;
      log.debug(`${fileOf(full)}: [${name}] ${key} ${UNUSED_NOTES[full] ?? 'has no equivalent in skiff: ignored'}`);
    }
  }
  const c = section('containers');
  const d = conf.containers;
  const str = (key: string) => expectString(c[key], `containers.${key}`, fileOf(`containers.${key}`));
  const list = (key: string) => expectStrings(c[key], `containers.${key}`, fileOf(`containers.${key}`));
  const bad = (key: string, why: string) => new CliError('ECONFIG', `${fileOf(key)}: ${key} ${why}`);
  if (c.dns_servers !== undefined) d.dnsServers = list('dns_servers');
  if (c.dns_options !== undefined) d.dnsOptions = list('dns_options');
  if (c.dns_searches !== undefined) d.dnsSearches = list('dns_searches');
  if (c.base_hosts_file !== undefined) {
    const base = str('base_hosts_file');
    if (base === 'image') log.debug(`${fileOf('containers.base_hosts_file')}: base_hosts_file "image" has no equivalent in skiff: ignored`);
    else if (base !== '' && base !== 'none' && !base.startsWith('/')) throw bad('containers.base_hosts_file', 'must be an absolute path, "none" or "image"');
    else if (base !== '') d.baseHostsFile = base;
  }
  if (c.env !== undefined) d.env = list('env');
  if (c.default_capabilities !== undefined)
    d.capabilities = list('default_capabilities').map((cap) => (cap.toUpperCase().startsWith('CAP_') ? cap.toUpperCase() : `CAP_${cap.toUpperCase()}`));
  if (c.default_ulimits !== undefined) {
    d.ulimits = list('default_ulimits');
    for (const u of d.ulimits) if (!ULIMIT_RE.test(u)) throw bad('containers.default_ulimits', `entry "${u}" is not NAME=SOFT[:HARD]`);
  }
  if (c.tz !== undefined && str('tz') !== '') d.tz = str('tz');
  if (c.umask !== undefined) {
    d.umask = str('umask');
    if (!/^[0-7]{1,4}$/.test(d.umask)) throw bad('containers.umask', `"${d.umask}" is not an octal mask such as 0022`);
  }
  if (c.log_driver !== undefined) {
    const driver = str('log_driver');
    if (driver === 'k8s-file' || driver === 'json-file') d.logDriver = 'k8s-file';
    else if (driver === 'none' || driver === 'passthrough') d.logDriver = 'none';
    else log.debug(`${fileOf('containers.log_driver')}: log_driver "${driver}" has no equivalent in skiff (k8s-file or none): ignored`);
  }
  if (c.log_size_max !== undefined) d.logSizeMax = expectInteger(c.log_size_max, 'containers.log_size_max', fileOf('containers.log_size_max'));
  if (c.pids_limit !== undefined) d.pidsLimit = expectInteger(c.pids_limit, 'containers.pids_limit', fileOf('containers.pids_limit'));
  if (c.shm_size !== undefined) {
    d.shmSize = str('shm_size');
    if (!SIZE_RE.test(d.shmSize)) throw bad('containers.shm_size', `"${d.shmSize}" is not a size such as 64m`);
  }
  if (c.init !== undefined) d.init = expectBool(c.init, 'containers.init', fileOf('containers.init'));
  if (c.init_path !== undefined && str('init_path') !== '') d.initPath = str('init_path');
  if (c.userns !== undefined && str('userns') !== '') d.userns = str('userns');
  if (c.netns !== undefined && str('netns') !== '') d.netns = str('netns');

  const e = section('engine');
  const estr = (key: string) => expectString(e[key], `engine.${key}`, fileOf(`engine.${key}`));
  if (e.runtime !== undefined && estr('runtime') !== '') conf.engine.runtime = estr('runtime');
  if (e.runtimes !== undefined) {
    if (!isTable(e.runtimes)) throw new CliError('ECONFIG', `${fileOf('engine.runtimes')}: use an [engine.runtimes] table of name = [paths]`);
    for (const [name, paths] of Object.entries(e.runtimes))
      conf.engine.runtimes[name] = expectStrings(paths, `engine.runtimes.${name}`, fileOf(`engine.runtimes.${name}`));
  }
  if (e.hooks_dir !== undefined) conf.engine.hooksDir = expectStrings(e.hooks_dir, 'engine.hooks_dir', fileOf('engine.hooks_dir'));
  if (e.events_logfile_path !== undefined && estr('events_logfile_path') !== '') conf.engine.eventsLogfilePath = estr('events_logfile_path');
  if (e.events_logger !== undefined) {
    const logger = estr('events_logger');
    if (logger === 'file' || logger === 'none') conf.engine.eventsLogger = logger;
    else log.debug(`${fileOf('engine.events_logger')}: events_logger "${logger}" has no equivalent in skiff (file or none): ignored`);
  }
  if (e.tmp_dir !== undefined && estr('tmp_dir') !== '') conf.engine.tmpDir = estr('tmp_dir');
  if (e.cgroup_manager !== undefined) {
    const manager = estr('cgroup_manager');
    if (manager !== 'systemd' && manager !== 'cgroupfs')
      throw new CliError('ECONFIG', `${fileOf('engine.cgroup_manager')}: cgroup_manager must be "systemd" or "cgroupfs"`);
    conf.engine.cgroupManager = manager;
  }
  if (e.image_default_transport !== undefined && !['', 'docker://'].includes(estr('image_default_transport')))
    log.debug(`${fileOf('engine.image_default_transport')}: image_default_transport: skiff pulls from registries (docker://) only: ignored`);

  const n = section('network');
  if (n.default_rootless_network_cmd !== undefined) {
    const cmd = expectString(n.default_rootless_network_cmd, 'network.default_rootless_network_cmd', fileOf('network.default_rootless_network_cmd'));
    if (cmd !== 'pasta' && cmd !== 'slirp4netns')
      throw new CliError('ECONFIG', `${fileOf('network.default_rootless_network_cmd')}: default_rootless_network_cmd must be "pasta" or "slirp4netns"`);
    conf.network.backend = cmd;
  }
  if (n.default_network !== undefined)
    conf.network.defaultNetwork = expectString(n.default_network, 'network.default_network', fileOf('network.default_network'));
  return conf;
};

// Reads and merges the containers.conf files Podman would read.
export const loadContainersConf = (sources: { files: string[]; required: string[] }): ContainersConf => {
  const doc: TomlDoc = {};
  const origins: Record<string, string> = {};
  const read: string[] = [];
  for (const file of sources.files) {
    const one = readTomlFile(file, sources.required.includes(file));
    if (!one) continue;
    read.push(file);
    mergeInto(doc, one, file, origins);
  }
  return interpret(doc, origins, read);
};
