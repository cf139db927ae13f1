// build's flags as the engine takes them: KEY=VALUE lists, secrets, named contexts, --output,
// durations, and the flags skiff refuses (one line each, saying what to do instead).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from '../../../errors.js';
import { parseDuration } from '../../../build/values.js';
import type { BuildOutput } from '../../../engine/builds.js';

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
