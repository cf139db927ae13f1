// build's flags as the engine takes them: KEY=VALUE lists, secrets, named contexts, --output,
// durations, and the flags skiff refuses (one line each, saying what to do instead).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from '../../../errors.js';
import { parseDuration } from '../../../build/values.js';
import type { BuildOptions, BuildOutput } from '../../../engine/builds.js';
import { readBoundedFd } from '../../../util/bounded-read.js';
import { DOCKERFILE_MAX } from '../../../util/limits.js';

// build's flags as commander gives them.
export interface BuildFlags {
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
  allPlatforms?: boolean;
  arch?: string;
  os?: string;
  variant?: string;
  osVersion?: string;
  osFeature?: string[];
  authfile?: string;
  creds?: string;
  tlsVerify?: boolean;
  certDir?: string;
  retry?: string;
  retryDelay?: string;
  cacheFrom?: string;
  cacheTo?: string;
  compress?: boolean;
  disableCompression: boolean;
  cppFlag?: string[];
  decryptionKey?: string[];
  env?: string[];
  from?: string;
  hooksDir?: string[];
  identityLabel: boolean;
  logfile?: string;
  logsplit?: boolean;
  manifest?: string;
  omitHistory?: boolean;
  output?: string;
  runtimeFlag?: string[];
  signBy?: string;
  stdin?: boolean;
  usernsUidMap?: string[];
  usernsGidMap?: string[];
  usernsUidMapUser?: string;
  usernsGidMapGroup?: string;
}

// KEY=VALUE pairs (a bare KEY takes the value from the environment, as Docker's --build-arg).
export const pairs = (items: string[], what: string, fromEnv: boolean): Record<string, string> => {
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
export const parseSecrets = (specs: string[]): Record<string, string> => {
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

// A Go duration ("10m", "1h30m", "0"), in milliseconds.
export const durationMs = (flag: string, value: string): number => {
  const ns = (() => {
    try {
      return parseDuration(value);
    } catch {
      return -1;
    }
  })();
  if (ns < 0) throw new CliError('EUSAGE', `${flag}=${value}: use a duration such as 2s, 10m or 24h`);
  return ns / 1e6;
};

// --build-context NAME=VALUE: a directory, or docker-image:// (container-image://) and an image.
export const parseContexts = (specs: string[]): Record<string, { dir: string } | { image: string }> => {
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

export const argFileLines = (path: string): string[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

export const pullPolicy = (value: string | boolean | undefined): 'always' | 'missing' | 'never' => {
  if (value === undefined || value === false || value === 'false' || value === 'missing') return 'missing';
  if (value === true || value === 'true' || value === 'always' || value === 'newer') return 'always';
  if (value === 'never') return 'never';
  throw new CliError('EUSAGE', `--pull=${value}: use always, missing, never or newer`);
};

// -o/--output as Buildah reads it: "-" (a tar on standard output), a directory, or
// type=local|tar,dest=PATH ("-" a tar's standard output).
export const parseOutput = (spec: string): { type: 'local'; dest: string } | { type: 'tar'; dest: string | '-' } => {
  if (spec === '-') return { type: 'tar', dest: '-' };
  if (!spec.includes('=')) return { type: 'local', dest: resolve(spec) };
  const fields: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CliError('EUSAGE', `--output ${spec}: "${part}" is not KEY=VALUE (use type=local,dest=DIR or type=tar,dest=FILE)`);
    fields[part.slice(0, eq)] = part.slice(eq + 1);
  }
  const unknown = Object.keys(fields).find((k) => k !== 'type' && k !== 'dest');
  if (unknown) throw new CliError('EUSAGE', `--output ${spec}: unknown option ${unknown} (use type=local,dest=DIR or type=tar,dest=FILE)`);
  if (fields.type !== 'local' && fields.type !== 'tar')
    throw new CliError('EUSAGE', `--output ${spec}: type ${fields.type ?? '(none)'} is not one of local or tar`);
  if (!fields.dest) throw new CliError('EUSAGE', `--output ${spec}: dest= is needed (the directory or the tar file)`);
  if (fields.type === 'local' && fields.dest === '-') throw new CliError('EUSAGE', `--output ${spec}: a directory cannot go to standard output: use type=tar`);
  return fields.type === 'local' ? { type: 'local', dest: resolve(fields.dest) } : { type: 'tar', dest: fields.dest === '-' ? '-' : resolve(fields.dest) };
};

export type OutputSpec = ReturnType<typeof parseOutput>;

// The engine's form: standard output as the stream.
export const outputFor = (spec: OutputSpec): BuildOutput =>
  spec.type === 'tar' && spec.dest === '-' ? { type: 'tar', dest: process.stdout } : (spec as BuildOutput);

// --userns-uid-map and --userns-gid-map: CONTAINER:HOST:SIZE, repeated or comma-separated (Buildah's form).
export const idMaps = (specs: string[] | undefined): string[] | undefined => specs?.flatMap((s) => s.split(',').filter(Boolean));

// Flags of Podman's that need what skiff does not have: the line each is refused with.
export const REFUSED: Record<string, string> = {
  allPlatforms:
    '--all-platforms builds an image for each platform of the base into a manifest list, which skiff cannot write yet (no manifest lists): build for one platform with --platform',
  manifest:
    '--manifest adds the image to a manifest list, which skiff cannot write yet (no manifest create/add in this build of skiff): build with -t and add the image to the list later',
  decryptionKey: '--decryption-key: skiff has no encrypted images to decrypt; build from an image that is not encrypted',
  signBy: '--sign-by: skiff does not sign images; push the image and sign it with a signing tool (skopeo, cosign)',
  hooksDir: '--hooks-dir: skiff does not run OCI hooks yet; build without --hooks-dir',
};

// The flags as the engine takes them.
export const buildOptions = (context: string, flags: BuildFlags, annotations: Record<string, string>): BuildOptions => {
  const jobs = flags.jobs !== undefined ? Number(flags.jobs) : undefined;
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new CliError('EUSAGE', `--jobs=${flags.jobs}: use a whole number of 1 or more`);
  const timestamp = flags.timestamp !== undefined ? Number(flags.timestamp) : undefined;
  if (timestamp !== undefined && (!Number.isInteger(timestamp) || timestamp < 0))
    throw new CliError('EUSAGE', `--timestamp=${flags.timestamp}: use seconds since 1970`);
  const retry = flags.retry !== undefined ? Number(flags.retry) : undefined;
  if (retry !== undefined && (!Number.isInteger(retry) || retry < 0)) throw new CliError('EUSAGE', `--retry=${flags.retry}: use a whole number of 0 or more`);
  const buildArgs = {
    ...pairs((flags.buildArgFile ?? []).flatMap(argFileLines), '--build-arg-file', false),
    ...pairs(flags.buildArg ?? [], '--build-arg', true),
  };
  const env = pairs(flags.env ?? [], '--env', true);
  return {
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
    run: runOptions(flags),
    platform: flags.platform,
    ...(flags.arch ? { arch: flags.arch } : {}),
    ...(flags.os ? { os: flags.os } : {}),
    ...(flags.variant ? { variant: flags.variant } : {}),
    ...(flags.osVersion ? { osVersion: flags.osVersion } : {}),
    ...(flags.osFeature ? { osFeatures: flags.osFeature } : {}),
    contexts: parseContexts(flags.buildContext ?? []),
    ...(flags.format ? { format: flags.format as 'docker' | 'oci' } : {}),
    annotations,
    ...(flags.cacheTtl !== undefined ? { cacheTtlMs: durationMs('--cache-ttl', flags.cacheTtl) } : {}),
    ...(flags.squashAll ? { squash: 'all' as const } : flags.squash ? { squash: 'new' as const } : {}),
    ...(flags.from ? { from: flags.from } : {}),
    ...(Object.keys(env).length ? { env } : {}),
    ...(flags.identityLabel === false ? { identityLabel: false } : {}),
    ...(flags.omitHistory ? { omitHistory: true } : {}),
    ...(flags.stdin ? { stdin: process.stdin } : {}),
    ...(flags.disableCompression === false ? { compress: true } : {}),
    ...(flags.cacheFrom ? { cacheFrom: flags.cacheFrom } : {}),
    ...(flags.cacheTo ? { cacheTo: flags.cacheTo } : {}),
    ...(flags.usernsUidMapUser ? { subuidName: flags.usernsUidMapUser } : {}),
    ...(flags.usernsGidMapGroup ? { subgidName: flags.usernsGidMapGroup } : {}),
    ...(flags.cppFlag ? { cppFlags: flags.cppFlag } : {}),
    remote: {
      ...(flags.tlsVerify !== undefined ? { tlsVerify: flags.tlsVerify } : {}),
      ...(flags.creds ? { creds: flags.creds } : {}),
      ...(flags.authfile ? { authfile: flags.authfile } : {}),
      ...(flags.certDir ? { certDir: flags.certDir } : {}),
      ...(retry !== undefined ? { retry } : {}),
      ...(flags.retryDelay !== undefined ? { retryDelayMs: durationMs('--retry-delay', flags.retryDelay) } : {}),
    },
  };
};

// What every RUN container gets besides, as `run` takes it.
const runOptions = (flags: BuildFlags): BuildOptions['run'] => ({
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
  ...(flags.usernsUidMap ? { uidmap: idMaps(flags.usernsUidMap) } : {}),
  ...(flags.usernsGidMap ? { gidmap: idMaps(flags.usernsGidMap) } : {}),
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
});
