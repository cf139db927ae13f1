// RUN --mount=type=cache|bind|secret|tmpfs|ssh,key=value,...: read as BuildKit reads it (CSV fields, keys
// case-insensitive, values expanded, `from` never), checked key by key.
import { CliError } from '../errors.js';
import { parseGoBool, parseRamSize } from './values.js';

// The mount types RUN --mount takes.
export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';

// One RUN --mount, values expanded; defaults that need the stage (cache id = target, secret target) are the builder's.
export interface MountSpec {
  type: MountType;
  target?: string;
  source?: string;
  /** A stage name or index, an image, or a named context; unset means the build context (bind) or nothing (cache). */
  from?: string;
  /** Cache id or secret/ssh id. */
  id?: string;
  sharing?: 'shared' | 'private' | 'locked';
  /** Bind, secret and ssh mounts are read-only unless rw is given; cache and tmpfs are writable unless ro is. */
  readOnly: boolean;
  /** Secret and ssh: fail when the secret or key is not provided. */
  required: boolean;
  /** Tmpfs size limit in bytes. */
  size?: number;
  /** Secret: the environment variable to expose it as. */
  env?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

const usage = (message: string): CliError => new CliError('EUSAGE', message);

const TYPES: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING = ['shared', 'private', 'locked'] as const;
const KEYS = new Set('type from source src target dst destination readonly ro readwrite rw id sharing required size mode uid gid env'.split(' '));
const BARE_KEYS = new Set(['readonly', 'ro', 'readwrite', 'rw', 'required']);

// Splits CSV as Go's encoding/csv does for one record: "quoted, fields" with "" for a quote.
const splitCsv = (text: string): string[] => {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      for (i++; ; i++) {
        if (i >= text.length) throw usage(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
        if (text[i] !== '"') field += text[i];
        else if (text[i + 1] === '"') field += text[i++];
        else break;
      }
      i++;
      if (i < text.length && text[i] !== ',') throw usage(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
    } else {
      const end = text.indexOf(',', i);
      field = text.slice(i, end < 0 ? text.length : end);
      if (field.includes('"')) throw usage(`failed to parse csv mounts: bare " in non-quoted-field`);
      i = end < 0 ? text.length : end;
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++;
  }
};

// The fields of a --mount value, keys lower-cased; unknown keys, and `from` with a variable, are refused.
export const splitMountFields = (spec: string): { key: string; value: string | undefined }[] =>
  splitCsv(spec).map((field) => {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    if (value === undefined && !BARE_KEYS.has(key)) throw usage(`invalid field '${field}' must be a key=value pair`);
    if (!KEYS.has(key)) throw usage(`unexpected key '${key}' in '${field}'`);
    if (key === 'from' && value!.includes('$') && value!.indexOf('$') !== value!.length - 1)
      throw usage(`'from' doesn't support variable expansion, define alias stage instead`);
    return { key, value };
  });

const readBool = (key: string, value: string): boolean => {
  const parsed = parseGoBool(value);
  if (parsed === undefined) throw usage(`invalid value for ${key}: ${value}`);
  return parsed;
};

const readUint = (key: string, value: string, radix: 8 | 10): number => {
  const valid = radix === 8 ? /^[0-7]+$/ : /^\d+$/;
  const parsed = Number.parseInt(value, radix);
  if (!valid.test(value) || parsed > 0xffffffff) throw usage(`invalid value ${value} for ${key}`);
  return parsed;
};

// Parses one --mount value, each value passed through `expand` (the instruction's variables).
export const parseMount = (spec: string, expand: (value: string) => string): MountSpec => {
  const mount: MountSpec = { type: 'bind', readOnly: true, required: false };
  let roAuto = true;
  for (const { key, value: raw } of splitMountFields(spec)) {
    const value = raw === undefined ? undefined : expand(raw);
    const secretOrSsh = mount.type === 'secret' || mount.type === 'ssh';
    switch (key) {
      case 'type': {
        const type = value!.toLowerCase() as MountType;
        if (!TYPES.includes(type)) throw usage(`unsupported mount type ${JSON.stringify(value)}`);
        mount.type = type;
        break;
      }
      case 'from':
        mount.from = value;
        break;
      case 'source':
      case 'src':
        mount.source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        mount.target = value;
        break;
      case 'readonly':
      case 'ro':
      case 'readwrite':
      case 'rw': {
        const on = value === undefined ? true : readBool(key, value);
        mount.readOnly = key === 'rw' || key === 'readwrite' ? !on : on;
        roAuto = false;
        break;
      }
      case 'required':
        if (!secretOrSsh) throw usage(`unexpected key '${key}' for mount type '${mount.type}'`);
        mount.required = value === undefined ? true : readBool(key, value);
        break;
      case 'size':
        if (mount.type !== 'tmpfs') throw usage(`unexpected key '${key}' for mount type '${mount.type}'`);
        mount.size = parseRamSize(value!);
        break;
      case 'id':
        mount.id = value;
        break;
      case 'sharing': {
        const sharing = value!.toLowerCase() as MountSpec['sharing'] & string;
        if (!(SHARING as readonly string[]).includes(sharing)) throw usage(`unsupported sharing value ${JSON.stringify(value)}`);
        mount.sharing = sharing;
        break;
      }
      case 'mode':
        mount.mode = readUint(key, value!, 8);
        break;
      case 'uid':
      case 'gid':
        mount[key] = readUint(key, value!, 10);
        break;
      case 'env':
        mount.env = value;
        break;
    }
  }
  return checkMount(mount, roAuto);
};

// The rules between fields, once all are read.
const checkMount = (mount: MountSpec, roAuto: boolean): MountSpec => {
  if (!['secret', 'ssh', 'cache'].includes(mount.type))
    for (const key of ['mode', 'uid', 'gid'] as const) if (mount[key] !== undefined) throw usage(`${key} not allowed for "${mount.type}" type mounts`);
  if (roAuto) mount.readOnly = mount.type !== 'cache' && mount.type !== 'tmpfs';
  if (mount.type === 'secret') {
    if (mount.from) throw usage('secret mount should not have a from');
    if (mount.sharing) throw usage('secret mount should not define sharing');
    if (!mount.source && !mount.target && !mount.id) throw usage('invalid secret mount. one of source, target required');
    if (mount.source && mount.id) throw usage("both source and id can't be set");
  }
  if (mount.sharing && mount.type !== 'cache') throw usage(`invalid cache sharing set for ${mount.type} mount`);
  return mount;
};
