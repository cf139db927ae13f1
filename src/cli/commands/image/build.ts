// skiff build [flags] CONTEXT: an image from a Dockerfile (or Containerfile), rootless, no daemon.
// Prints Podman's lines: "STEP n/m: …", "--> Using cache ID", "--> ID", "COMMIT NAME", the id.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { CliError } from '../../../errors.js';
import { readBoundedFd } from '../../../util/bounded-read.js';
import { DOCKERFILE_MAX } from '../../../util/limits.js';
import { parseDuration } from '../../../build/values.js';
import type { BuildEvent } from '../../../engine/builds.js';
import { collect, openEngineFor, parseBool } from '../../engine.js';
import { printLine } from '../../output/print.js';
import { writeOut } from '../../output/stdout.js';

interface BuildFlags {
  tag?: string[];
  file?: string;
  buildArg?: string[];
  buildArgFile?: string[];
  target?: string;
  cache: boolean;
  pull?: string | boolean;
  label?: string[];
  quiet?: boolean;
  layers: boolean;
  iidfile?: string;
  network?: string;
  jobs?: string;
  timestamp?: string;
  ignorefile?: string;
  format?: string;
  secret?: string[];
  platform?: string;
  cacheTtl?: string;
  squash?: boolean;
  squashAll?: boolean;
  annotation?: string[];
  buildContext?: string[];
  volume?: string[];
  addHost?: string[];
  capAdd?: string[];
  memory?: string;
  memorySwap?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  shmSize?: string;
  hosts?: boolean;
  ipc?: string;
  pid?: string;
  uts?: string;
  unsetenv?: string[];
  httpProxy?: boolean;
  cgroupParent?: string;
  cgroupns?: string;
  userns?: string;
  isolation?: string;
  capDrop?: string[];
  device?: string[];
  dns?: string[];
  dnsOption?: string[];
  dnsSearch?: string[];
  securityOpt?: string[];
  ulimit?: string[];
  runtime?: string;
}

// KEY=VALUE pairs (a bare KEY takes the value from the environment, as Docker's --build-arg).
const pairs = (items: string[], what: string, fromEnv: boolean): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq === 0) throw new CliError('EUSAGE', `${what} "${item}": use KEY=VALUE`);
    if (eq < 0) {
      const value = fromEnv ? process.env[item] : '';
      if (value !== undefined) out[item] = value;
    } else out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
};

// --secret id=ID,src=FILE (Docker's and Podman's form): the file a RUN --mount=type=secret gets.
const parseSecrets = (specs: string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const fields: Record<string, string> = {};
    for (const field of spec.split(',')) {
      const eq = field.indexOf('=');
      fields[eq < 0 ? field : field.slice(0, eq)] = eq < 0 ? '' : field.slice(eq + 1);
    }
    const id = fields.id;
    const src = fields.src ?? fields.source;
    if (!id || !src || (fields.type && fields.type !== 'file')) throw new CliError('EUSAGE', `--secret "${spec}": use id=ID,src=FILE`);
    if (!existsSync(src)) throw new CliError('EUSAGE', `--secret ${id}: ${src}: no such file`);
    out[id] = resolve(src);
  }
  return out;
};

// --cache-ttl: a Go duration ("10m", "1h30m", "0"), in milliseconds.
const cacheTtl = (value: string): number => {
  const ns = (() => {
    try {
      return parseDuration(value);
    } catch {
      return -1;
    }
  })();
  if (ns < 0) throw new CliError('EUSAGE', `--cache-ttl=${value}: use a duration such as 10m, 24h or 0`);
  return ns / 1e6;
};

// --build-context NAME=VALUE: a directory, or docker-image:// (container-image://) and an image.
const parseContexts = (specs: string[]): Record<string, { dir: string } | { image: string }> => {
  const out: Record<string, { dir: string } | { image: string }> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const [name, value] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : ['', ''];
    if (!name || !value) throw new CliError('EUSAGE', `--build-context "${spec}": use NAME=DIRECTORY or NAME=docker-image://IMAGE`);
    const image = /^(docker-image|container-image):\/\/(.+)$/.exec(value);
    if (image) out[name] = { image: image[2] };
    else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value))
      throw new CliError('EUSAGE', `--build-context ${name}: ${value.split('://')[0]}:// contexts are not supported yet; use a directory or docker-image://`);
    else {
      if (!statSync(value, { throwIfNoEntry: false })?.isDirectory()) throw new CliError('EUSAGE', `--build-context ${name}: ${value} is not a directory`);
      out[name] = { dir: resolve(value) };
    }
  }
  return out;
};

const argFileLines = (path: string): string[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

const pullPolicy = (value: string | boolean | undefined): 'always' | 'missing' | 'never' => {
  if (value === undefined || value === false || value === 'false' || value === 'missing') return 'missing';
  if (value === true || value === 'true' || value === 'always' || value === 'newer') return 'always';
  if (value === 'never') return 'never';
  throw new CliError('EUSAGE', `--pull=${value}: use always, missing, never or newer`);
};

const short = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

// Podman's lines for each event ("[2/3] STEP 1/4: …" when there is more than one stage).
const printer = (quiet: boolean, tag: string | undefined) => {
  return (event: BuildEvent): void => {
    if (quiet) return;
    const stage = (e: { stage: number; stages: number }) => (e.stages > 1 ? `[${e.stage}/${e.stages}] ` : '');
    switch (event.kind) {
      case 'step':
        printLine(`${stage(event)}STEP ${event.step}/${event.steps}: ${event.text}`);
        break;
      case 'cache':
        printLine(`--> Using cache ${event.id.replace(/^sha256:/, '')}`);
        printLine(`--> ${short(event.id)}`);
        break;
      case 'layer':
        printLine(`--> ${short(event.id)}`);
        break;
      case 'output':
        writeOut(event.text);
        break;
      case 'commit':
        printLine(`${stage(event)}COMMIT${tag ? ` ${tag}` : ''}`);
        break;
      case 'warning':
        process.stderr.write(`WARNING: ${event.message}\n`);
        break;
    }
  };
};

export const build = (name = 'build'): Command =>
  new Command(name)
    .description('Build an image from a Containerfile or Dockerfile')
    .argument('[context]', 'the build context directory', '.')
    .option('-t, --tag <name>', 'name the image (repeatable)', collect)
    .option('-f, --file <path>', 'the Containerfile or Dockerfile (- reads standard input)')
    .option('--build-arg <key=value>', 'set a build argument (repeatable)', collect)
    .option('--build-arg-file <path>', 'build arguments from a file of KEY=VALUE lines', collect)
    .option('--target <stage>', 'build up to this stage')
    .option('--no-cache', 'run every step, using no cached one')
    .addOption(new Option('--pull [policy]', 'pull base images: always, missing, never or newer (default missing)'))
    .option('--label <key=value>', 'a label on the image (repeatable)', collect)
    .option('-q, --quiet', 'print only the image id')
    .option('--layers [bool]', 'keep each step as a cached layer', parseBool, true)
    .option('--iidfile <path>', 'write the image id to this file')
    .option('--network <mode>', 'the network of RUN steps (none, host, pasta, slirp4netns, a named network)')
    .option('--jobs <n>', 'stages built at once (default: the CPU count)')
    .option('--timestamp <seconds>', 'set every created time to this (a rebuild gives the same id)')
    .option('--ignorefile <path>', 'the ignore file (default .containerignore or .dockerignore in the context)')
    .addOption(new Option('--format <format>', 'the manifest format: docker (the default) or oci').choices(['oci', 'docker']))
    .option('--annotation <key=value>', 'an annotation on the manifest (--format oci; repeatable)', collect)
    .option('--platform <os/arch>', "the platform to build for (this host's: skiff does not emulate)")
    .option('--cache-ttl <duration>', 'use cached steps made within this long (10m, 24h; 0: none)')
    .option('--squash', 'one layer for what this build adds on its base')
    .option('--squash-all', 'one layer for the whole image, its base included')
    .option('--build-context <name=value>', 'a named context for FROM and COPY --from: a directory or docker-image://REF', collect)
    .option('-v, --volume <host:container[:options]>', 'bind-mount into every RUN step (repeatable)', collect)
    .option('--add-host <host:ip>', 'an /etc/hosts line for RUN steps (repeatable)', collect)
    .option('--cap-add <cap>', 'a capability for RUN steps (repeatable)', collect)
    .option('--cap-drop <cap>', 'a capability RUN steps do without (repeatable)', collect)
    .option('--device <host-path[:container-path][:permissions]>', 'a host device for RUN steps (repeatable)', collect)
    .option('--dns <ip>', 'a DNS server for RUN steps (repeatable)', collect)
    .option('--dns-option <option>', 'a resolv.conf option for RUN steps (repeatable)', collect)
    .option('--dns-search <domain>', 'a DNS search domain for RUN steps (repeatable)', collect)
    .option('--security-opt <option>', 'a security option for RUN steps (repeatable)', collect)
    .option('--ulimit <type=soft[:hard]>', 'a resource limit for RUN steps (repeatable)', collect)
    .option('--runtime <path|name>', 'the OCI runtime RUN steps run under')
    .option('-m, --memory <bytes>', 'memory limit for RUN steps (512m, 1g)')
    .option('--memory-swap <bytes>', 'memory plus swap limit for RUN steps')
    .option('--cpu-period <µs>', 'CPU period for RUN steps')
    .option('--cpu-quota <µs>', 'CPU time per period for RUN steps')
    .option('-c, --cpu-shares <weight>', 'relative CPU weight of RUN steps')
    .option('--cpuset-cpus <list>', 'CPUs RUN steps may run on')
    .option('--cpuset-mems <list>', 'memory nodes RUN steps may use')
    .option('--shm-size <size>', "RUN steps' /dev/shm size (default 64m)")
    .option('--no-hosts', "no /etc/hosts of skiff's in RUN steps")
    .option('--ipc <mode>', "RUN steps' IPC namespace: private, host, container:NAME or ns:PATH")
    .option('--pid <mode>', "RUN steps' PID namespace: private, host, container:NAME or ns:PATH")
    .option('--uts <mode>', "RUN steps' UTS namespace: private, host, container:NAME or ns:PATH")
    .option('--unsetenv <name>', "leave this variable of skiff's defaults out of RUN steps", collect)
    .option('--http-proxy [bool]', "pass the host's proxy variables to RUN steps (default true)", parseBool)
    .option('--cgroup-parent <parent>', "RUN steps' cgroup parent")
    .option('--cgroupns <mode>', "RUN steps' cgroup namespace: private or host")
    .option('--userns <mode>', "RUN steps' user namespace, as run's --userns")
    .option('--disable-content-trust', 'accepted for Docker scripts (no content trust here)')
    .option('--isolation <kind>', "oci (the only one: RUN steps run in the OCI runtime's containers)")
    .option('--skip-unused-stages [bool]', 'stages the target does not need are not built (always, as BuildKit)', parseBool)
    .option('--secret <id=ID,src=FILE>', 'a secret for RUN --mount=type=secret (repeatable)', collect)
    .option('--rm [bool]', 'remove the build containers after each step (always)', parseBool, true)
    .option('--force-rm [bool]', 'remove the build containers after a failure too (always)', parseBool, true)
    .action(async (context: string, flags: BuildFlags, cmd: Command) => {
      if (flags.isolation !== undefined && flags.isolation !== 'oci' && flags.isolation !== 'default')
        throw new CliError('EUSAGE', `--isolation ${flags.isolation} is not supported: RUN steps run in the OCI runtime's containers (oci)`);
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const jobs = flags.jobs !== undefined ? Number(flags.jobs) : undefined;
      if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new CliError('EUSAGE', `--jobs=${flags.jobs}: use a whole number of 1 or more`);
      const timestamp = flags.timestamp !== undefined ? Number(flags.timestamp) : undefined;
      if (timestamp !== undefined && (!Number.isInteger(timestamp) || timestamp < 0))
        throw new CliError('EUSAGE', `--timestamp=${flags.timestamp}: use seconds since 1970`);
      const buildArgs = {
        ...pairs((flags.buildArgFile ?? []).flatMap(argFileLines), '--build-arg-file', false),
        ...pairs(flags.buildArg ?? [], '--build-arg', true),
      };
      const annotations = pairs(flags.annotation ?? [], '--annotation', false);
      if (Object.keys(annotations).length && flags.format !== 'oci')
        process.stderr.write('WARNING: annotations are written in OCI manifests only: add --format oci, or they are left out\n');
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      try {
        const report = await (await engine.builds()).build(
          {
            context,
            ...(flags.file === '-'
              ? { text: readBoundedFd(0, { what: 'the Dockerfile on standard input', limit: DOCKERFILE_MAX, code: 'EUSAGE' }).toString('utf8') }
              : flags.file
                ? { file: flags.file }
                : {}),
            tags: flags.tag ?? [],
            buildArgs,
            target: flags.target,
            noCache: !flags.cache,
            pull: pullPolicy(flags.pull),
            labels: pairs(flags.label ?? [], '--label', false),
            network: flags.network,
            layers: flags.layers,
            timestamp,
            jobs,
            ignoreFile: flags.ignorefile,
            secrets: parseSecrets(flags.secret ?? []),
            run: {
              ...(flags.volume ? { volume: flags.volume } : {}),
              ...(flags.addHost ? { addHosts: flags.addHost } : {}),
              ...(flags.capAdd ? { capAdd: flags.capAdd } : {}),
              ...(flags.capDrop ? { capDrop: flags.capDrop } : {}),
              ...(flags.device ? { device: flags.device } : {}),
              ...(flags.dns ? { dns: flags.dns } : {}),
              ...(flags.dnsOption ? { dnsOptions: flags.dnsOption } : {}),
              ...(flags.dnsSearch ? { dnsSearch: flags.dnsSearch } : {}),
              ...(flags.securityOpt ? { securityOpt: flags.securityOpt } : {}),
              ...(flags.ulimit ? { ulimit: flags.ulimit } : {}),
              ...(flags.runtime ? { runtime: flags.runtime } : {}),
              ...Object.fromEntries(
                (
                  [
                    'memory',
                    'memorySwap',
                    'cpuPeriod',
                    'cpuQuota',
                    'cpuShares',
                    'cpusetCpus',
                    'cpusetMems',
                    'shmSize',
                    'ipc',
                    'pid',
                    'uts',
                    'unsetenv',
                    'httpProxy',
                    'cgroupParent',
                    'cgroupns',
                    'userns',
                  ] as const
                )
                  .filter((k) => flags[k] !== undefined)
                  .map((k) => [k, flags[k]]),
              ),
              ...(flags.hosts === false ? { hosts: false } : {}),
            },
            platform: flags.platform,
            contexts: parseContexts(flags.buildContext ?? []),
            ...(flags.format ? { format: flags.format as 'docker' | 'oci' } : {}),
            annotations,
            ...(flags.cacheTtl !== undefined ? { cacheTtlMs: cacheTtl(flags.cacheTtl) } : {}),
            ...(flags.squashAll ? { squash: 'all' as const } : flags.squash ? { squash: 'new' as const } : {}),
            signal: controller.signal,
          },
          printer(Boolean(flags.quiet), flags.tag?.[0]),
        );
        if (!flags.quiet) {
          printLine(`--> ${short(report.id)}`);
          for (const n of report.names) printLine(`Successfully tagged ${n}`);
        }
        printLine(report.id.replace(/^sha256:/, ''));
        if (flags.iidfile) writeFileSync(flags.iidfile, report.id);
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    });
