// containers.conf's [containers] settings under the create/run flags (see config/containers-conf.ts):
// each fills in what the command did not give, as Podman's do. A setting with no effect here says
// so at debug level.
import { existsSync } from 'node:fs';
import { runtimeByName, type SkiffConfig } from '../config/config.js';
import { CliError } from '../errors.js';
import { log } from '../util/log.js';
import { type CreateOptions, expandEnv } from './container-config.js';

export interface DefaultsContext {
  config: SkiffConfig;
  /** Whether a --pids-limit would hold (a cgroup with the pids controller). */
  pidsLimitWorks: () => boolean;
  /** Whether a named network exists (netns = "bridge": network.default_network). */
  namedNetwork: (name: string) => boolean;
}

// The network mode containers.conf's netns asks for, when the command names none.
const defaultNetns = (netns: string, ctx: DefaultsContext): string | undefined => {
  if (['pasta', 'slirp4netns', 'host', 'none'].includes(netns)) return netns;
  if (netns === 'private') return undefined;
  const name = ctx.config.network.defaultNetwork ?? 'podman';
  // bridge with Podman's own default network: skiff's default network (made on first use).
  if (netns === 'bridge' && name === 'podman') return 'bridge';
  if (netns === 'bridge' && ctx.namedNetwork(name)) return name;
  log.debug(`containers.conf: netns "${netns}" has no equivalent in skiff${netns === 'bridge' ? ` (no network named ${name})` : ''}: ignored`);
  return undefined;
};

// `options` with containers.conf's defaults where the flags say nothing.
export const withContainerDefaults = (options: CreateOptions, ctx: DefaultsContext): CreateOptions => {
  const d = ctx.config.containers;
  const o: CreateOptions = { ...options };
  o.dns ??= d.dnsServers;
  o.dnsSearch ??= d.dnsSearches;
  o.dnsOptions ??= d.dnsOptions;
  o.tz ??= d.tz;
  o.umask ??= d.umask;
  o.shmSize ??= d.shmSize;
  o.userns ??= d.userns;
  o.init ??= d.init;
  if (o.init && o.initPath === undefined && d.initPath) o.initPath = d.initPath;
  o.logDriver ??= d.logDriver;
  if (d.logSizeMax !== undefined && !(o.logOpts ?? []).some((opt) => opt.startsWith('max-size=')))
    o.logOpts = [`max-size=${d.logSizeMax < 0 ? -1 : d.logSizeMax}`, ...(o.logOpts ?? [])];
  if (d.ulimits?.length) {
    const given = new Set((o.ulimit ?? []).map((u) => u.split('=')[0]));
    o.ulimit = [...d.ulimits.filter((u) => !given.has(u.split('=')[0])), ...(o.ulimit ?? [])];
  }
  if (d.pidsLimit !== undefined && d.pidsLimit > 0 && o.pidsLimit === undefined) {
    if (ctx.pidsLimitWorks()) o.pidsLimit = String(d.pidsLimit);
    else log.debug(`containers.conf: pids_limit ${d.pidsLimit} not applied: containers here get no cgroup with the pids controller`);
  }
  if (o.network === undefined && d.netns) o.network = defaultNetns(d.netns, ctx);
  if (o.runtime !== undefined) o.runtime = runtimeByName(ctx.config, o.runtime, existsSync);
  if (d.env?.length) o.defaultEnv = d.env.flatMap(expandEnv);
  if (d.capabilities) o.defaultCapabilities = d.capabilities;
  if (d.baseHostsFile && d.baseHostsFile !== 'none') {
    if (!existsSync(d.baseHostsFile))
      throw new CliError('ECONFIG', `containers.conf: base_hosts_file ${d.baseHostsFile} does not exist: fix the setting or create the file`);
    o.baseHostsFile = d.baseHostsFile;
  }
  return o;
};
