// run/create --secret NAME[,type=mount|env][,target=PATH|VAR][,uid=N][,gid=N][,mode=OCTAL], as
// Podman 4.3 does it. A mount secret is copied into the container's directory when it is made
// (userdata/secrets/N: 0700, the container's root owns it) and that copy is bind-mounted read-only
// at /run/secrets/NAME, or the target (a relative one under /run/secrets): removing the secret
// later leaves the container as it was, and the container never reaches skiff's store. /run/secrets
// is a read-only directory of skiff's (userdata/run-secrets) whose mount points are made at create,
// so the container cannot leave links there. An env secret is looked up at each start.
import { chmodSync, closeSync, fchmodSync, fchownSync, lchownSync, lstatSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import type { ContainerSecret } from '../state/containers.js';
import type { FileSecret } from './container-config.js';
import type { SecretStore } from '../storage/secrets.js';
import { writeAllSync } from '../util/fs.js';
import { type IdMappings, outerIds, rootOwner } from '../util/idmap.js';

const RUN_SECRETS = '/run/secrets';
const usage = (spec: string, why: string): CliError => new CliError('EUSAGE', `invalid --secret "${spec}": ${why}`);

// One --secret flag, its secret not looked up yet (name as given: a name or an id).
export const parseSecretFlag = (spec: string): ContainerSecret => {
  const fields = spec.split(',');
  let name = fields[0].includes('=') ? '' : fields.shift()!;
  let type: string | undefined;
  let target = '';
  let uid = 0;
  let gid = 0;
  let mode = 0o444;
  let mountOnly = '';
  const id = (key: string, value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) throw usage(spec, `${key}=${value} is not a whole number`);
    mountOnly = key;
    return Number(value);
  };
  for (const field of fields) {
    const eq = field.indexOf('=');
    if (eq < 1) throw usage(spec, `"${field}" is not KEY=VALUE (keys: source, type, target, uid, gid, mode)`);
    const [key, value] = [field.slice(0, eq), field.slice(eq + 1)];
    if (key === 'source') name = value;
    else if (key === 'type') {
      if (type !== undefined) throw usage(spec, 'type is given twice');
      if (value !== 'mount' && value !== 'env') throw usage(spec, `type=${value}: use type=mount or type=env`);
      type = value;
    } else if (key === 'target') target = value;
    else if (key === 'uid' || key === 'UID') uid = id('uid', value);
    else if (key === 'gid' || key === 'GID') gid = id('gid', value);
    else if (key === 'mode') {
      if (!/^[0-7]{1,4}$/.test(value)) throw usage(spec, `mode=${value} is not an octal mode such as 0400`);
      mode = Number.parseInt(value, 8);
      mountOnly = 'mode';
    } else throw usage(spec, `unknown option "${key}" (keys: source, type, target, uid, gid, mode)`);
  }
  if (!name) throw usage(spec, 'no secret named: use --secret NAME[,OPTIONS]');
  if (type === 'env') {
    if (mountOnly) throw usage(spec, `${mountOnly}= applies to type=mount only, not to type=env`);
    const variable = target || name;
    if (variable.includes('=') || /[\s\0]/.test(variable)) throw usage(spec, `"${variable}" cannot be an environment variable's name`);
    return { name, id: '', type: 'env', target: variable, uid: 0, gid: 0, mode: 0 };
  }
  const destination = posix.resolve(RUN_SECRETS, target || name);
  if (destination === '/' || RUN_SECRETS.startsWith(`${destination}/`) || destination === RUN_SECRETS)
    throw usage(spec, `the target ${destination} would cover ${RUN_SECRETS}: name a file`);
  return { name, id: '', type: 'mount', target: destination, uid, gid, mode };
};

// The --secret flags of a create, then the files given with their data (compose's secrets and
// configs, which are not in skiff's store): each mount target once, none inside another's.
export const parseSecretFlags = (specs: string[], files: FileSecret[] = []): ContainerSecret[] => {
  const secrets = specs.map(parseSecretFlag);
  for (const f of files) {
    const target = posix.resolve('/', f.target);
    if (target === '/' || RUN_SECRETS.startsWith(`${target}/`) || target === RUN_SECRETS)
      throw new CliError('EUSAGE', `${f.name}: the target ${target} would cover ${target === '/' ? '/' : RUN_SECRETS}: name a file`);
    secrets.push({ name: f.name, id: '', type: 'mount', target, uid: f.uid, gid: f.gid, mode: f.mode });
  }
  const targets = secrets.filter((s) => s.type === 'mount').map((s) => s.target);
  for (const t of targets) {
    if (targets.filter((u) => u === t).length > 1) throw new CliError('EUSAGE', `two --secret flags have the target ${t}: give each its own`);
    const outer = targets.find((u) => t.startsWith(`${u}/`));
    if (outer) throw new CliError('EUSAGE', `--secret targets ${outer} and ${t}: one cannot be inside the other`);
  }
  return secrets;
};

// At create: each secret looked up (its name and id recorded) and a mount secret's data read; the
// last `files.length` are the given files (parseSecretFlags put them there), their data as given.
export const resolveSecrets = async (store: SecretStore, secrets: ContainerSecret[], files: FileSecret[] = []): Promise<(Buffer | undefined)[]> => {
  const data: (Buffer | undefined)[] = [];
  for (const s of secrets.slice(0, secrets.length - files.length)) {
    const record = store.find(s.name);
    s.name = record.Name;
    s.id = record.ID;
    data.push(s.type === 'mount' ? await store.data(record) : undefined);
  }
  return [...data, ...files.map((f) => f.data)];
};

// At create, in the new container's userdata directory (new, so nothing in it is anyone else's):
// the copies (owned and moded as asked) and the mount points under /run/secrets.
export const writeSecretFiles = (userdata: string, secrets: ContainerSecret[], data: (Buffer | undefined)[], mappings: IdMappings | undefined): void => {
  if (!secrets.some((s) => s.type === 'mount')) return;
  const copies = join(userdata, 'secrets');
  const mountPoints = join(userdata, 'run-secrets');
  mkdirSync(copies, { mode: 0o700 });
  mkdirSync(mountPoints);
  for (const [i, s] of secrets.entries()) {
    if (s.type !== 'mount') continue;
    writeCopy(join(copies, String(i)), data[i]!, s, outerIds(mappings, { uid: s.uid, gid: s.gid }));
    if (!s.target.startsWith(`${RUN_SECRETS}/`)) continue;
    const inside = join(mountPoints, s.target.slice(RUN_SECRETS.length + 1));
    mkdirSync(dirname(inside), { recursive: true });
    closeSync(openSync(inside, 'wx', 0o444));
  }
  // Directories any user of the container may pass through (whatever the umask), the container's root's.
  const root = rootOwner(mappings);
  const tree = [mountPoints, ...(readdirSync(mountPoints, { recursive: true }) as string[]).map((p) => join(mountPoints, p))];
  for (const path of tree) if (lstatSync(path).isDirectory()) chmodSync(path, 0o755);
  if (root) for (const path of [copies, ...tree]) lchownSync(path, root.uid, root.gid);
};

const writeCopy = (path: string, data: Buffer, s: ContainerSecret, owner: { uid: number; gid: number }): void => {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeAllSync(fd, data);
    try {
      fchownSync(fd, owner.uid, owner.gid);
    } catch (error) {
      throw new CliError(
        'EUSAGE',
        `--secret ${s.name}: cannot give its file to uid ${s.uid}, gid ${s.gid}: ${messageOf(error)} (an id the container does not map?)`,
      );
    }
    fchmodSync(fd, s.mode);
  } finally {
    closeSync(fd);
  }
};

const READ_ONLY = ['bind', 'rprivate', 'ro', 'nosuid', 'nodev', 'noexec'];

// The bundle's mounts for the mount secrets: /run/secrets, then each copy at its target.
export const secretMounts = (userdata: string, secrets: ContainerSecret[]): { destination: string; type: string; source: string; options: string[] }[] => {
  if (!secrets.some((s) => s.type === 'mount')) return [];
  return [
    { destination: RUN_SECRETS, type: 'bind', source: join(userdata, 'run-secrets'), options: READ_ONLY },
    ...secrets.flatMap((s, i) =>
      s.type === 'mount' ? [{ destination: s.target, type: 'bind', source: join(userdata, 'secrets', String(i)), options: READ_ONLY }] : [],
    ),
  ];
};

// At each start: VAR=DATA for the env secrets, looked up by name (a secret removed since fails the start).
export const secretEnvironment = async (store: SecretStore, secrets: ContainerSecret[]): Promise<string[]> => {
  const env: string[] = [];
  for (const s of secrets.filter((x) => x.type === 'env')) {
    const record = store.lookup(s.name);
    if (!record)
      throw new CliError(
        'ENOSECRET',
        `secret ${s.name} of environment variable ${s.target} is gone: no such secret (create it again, or recreate the container)`,
      );
    env.push(`${s.target}=${(await store.data(record)).toString()}`);
  }
  return env;
};

// inspect's Config.Secrets, as Podman shows them (its mount secrets).
export const inspectSecrets = (secrets: ContainerSecret[]) =>
  secrets.filter((s) => s.type === 'mount').map((s) => ({ Name: s.name, ID: s.id, UID: s.uid, GID: s.gid, Mode: s.mode }));
