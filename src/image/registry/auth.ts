// Registry credentials and authentication challenges: auth.json (containers-auth.json and
// ~/.docker/config.json formats) and WWW-Authenticate parsing.
import { chmodSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { runtimeBase } from '../../config/paths.js';
import { CliError, messageOf } from '../../errors.js';
import { readBoundedFile } from '../../util/bounded-read.js';
import { writeJsonAtomic } from '../../util/fs.js';
import { AUTH_FILE_MAX } from '../../util/limits.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

// Parses `Bearer realm="https://auth",service="reg",scope="repository:x:pull"` (and Basic).
export const parseChallenge = (header: string): Challenge | undefined => {
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (let m = re.exec(match[2]); m; m = re.exec(match[2])) params[m[1].toLowerCase()] = (m[2] ?? m[3]).replace(/\\(.)/g, '$1');
  return { scheme: match[1].toLowerCase(), params };
};

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
}

// Reads an auth file (at most AUTH_FILE_MAX bytes); undefined when there is none.
const readAuthFile = (file: string): AuthFile | undefined => {
  let bytes: Buffer;
  try {
    bytes = readBoundedFile(file, { what: `auth file ${file}`, limit: AUTH_FILE_MAX, code: 'ECONFIG' });
  } catch (error) {
    if (error instanceof CliError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError('ECONFIG', `cannot read auth file ${file}: ${messageOf(error)}`, { cause: error });
  }
  try {
    return JSON.parse(bytes.toString('utf8')) as AuthFile;
  } catch {
    throw new CliError('ECONFIG', `${file} is not valid JSON: fix or remove it`);
  }
};

// Keys a registry may be stored under: Docker Hub's historical names included.
const keysFor = (registry: string): string[] =>
  registry === 'docker.io'
    ? ['docker.io', 'https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io']
    : [registry, `https://${registry}`, `http://${registry}`];

const decodeAuth = (entry: { auth?: string; username?: string; password?: string }): Credentials | undefined => {
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  if (!entry.auth) return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : undefined;
};

// Parses --creds "user[:password]".
export const parseCredsFlag = (value: string): Credentials => {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new CliError('EUSAGE', '--creds must be USERNAME:PASSWORD');
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
};

// The files credentials are read from, in Podman's order: the file the user named (--authfile,
// REGISTRY_AUTH_FILE), alone; else $XDG_RUNTIME_DIR/containers/auth.json (where login writes),
// $XDG_CONFIG_HOME/containers/auth.json, Docker's config.json ($DOCKER_CONFIG or ~/.docker) and
// its legacy ~/.dockercfg (registries at the top, no "auths").
export const credentialFiles = (authFile: string): { file: string; legacy: boolean }[] => {
  if (authFile !== defaultAuthFile()) return [{ file: authFile, legacy: false }];
  const home = process.env.HOME || homedir();
  return [
    { file: authFile, legacy: false },
    { file: join(process.env.XDG_CONFIG_HOME || join(home, '.config'), 'containers', 'auth.json'), legacy: false },
    { file: join(process.env.DOCKER_CONFIG ?? join(home, '.docker'), 'config.json'), legacy: false },
    { file: join(home, '.dockercfg'), legacy: true },
  ];
};

// Where login writes when no file is named: the user's runtime dir (Podman's default).
export const defaultAuthFile = (): string => join(runtimeBase(), 'containers', 'auth.json');

// Looks up stored credentials for a registry in the files credentialFiles names; the first found wins.
export const lookupCredentials = (registry: string, authFile: string): Credentials | undefined => {
  for (const { file, legacy } of credentialFiles(authFile)) {
    const doc = readAuthFile(file);
    const auths = legacy ? (doc as AuthFile['auths']) : doc?.auths;
    for (const key of keysFor(registry)) {
      const entry = auths?.[key];
      const creds = entry && decodeAuth(entry);
      if (creds) return creds;
    }
  }
  return undefined;
};

// Stores credentials in the auth file, mode 0600 (its directory 0700).
export const storeCredentials = (registry: string, authFile: string, creds: Credentials): void => {
  const doc = readAuthFile(authFile) ?? {};
  doc.auths = { ...doc.auths, [registry]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') } };
  mkdirSync(dirname(authFile), { recursive: true, mode: 0o700 });
  writeJsonAtomic(authFile, doc, 0o600);
  chmodSync(authFile, 0o600);
};

// Removes every registry's credentials from the auth file (logout --all); the registries it had.
export const removeAllCredentials = (authFile: string): string[] => {
  const doc = readAuthFile(authFile);
  const registries = Object.keys(doc?.auths ?? {});
  if (doc && registries.length) {
    doc.auths = {};
    writeJsonAtomic(authFile, doc, 0o600);
  }
  return registries;
};

// Removes a registry's credentials; false when there were none.
export const removeCredentials = (registry: string, authFile: string): boolean => {
  const doc = readAuthFile(authFile);
  const keys = keysFor(registry).filter((key) => doc?.auths?.[key]);
  if (!doc?.auths || keys.length === 0) return false;
  for (const key of keys) delete doc.auths[key];
  writeJsonAtomic(authFile, doc, 0o600);
  return true;
};
