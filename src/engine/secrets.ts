// Secrets: create (from a file, standard input or a variable of skiff's environment), list with
// filters, inspect, remove, exists. Podman 4.3 lets a secret go while containers use it, and so
// does skiff: a container keeps the copy it made of a mount secret at its create; an env secret
// is looked up at each start, so a start after its secret went fails naming it.
import { closeSync, constants, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { CliError, messageOf } from '../errors.js';
import { checkSecretName, type SecretRecord } from '../storage/secrets.js';
import { readBounded, readBoundedFd } from '../util/bounded-read.js';
import { SECRET_DATA_MAX } from '../util/limits.js';
import type { EngineContext } from './context.js';

export interface SecretCreateOptions {
  /** file (the default) or shell. */
  driver?: string;
  /** --driver-opts values: KEY=VALUE, comma-separated (a field in double quotes may hold commas). */
  driverOpts?: string[];
  /** --label KEY=VALUE (KEY alone: an empty value). */
  labels?: string[];
  replace?: boolean;
  ignore?: boolean;
}

/** Where the data comes from: a file, a stream (standard input) or a variable of skiff's environment. */
export type SecretSource = { file: string } | { stream: Readable } | { env: string };

const SIZE_RULE = `secret data must be larger than 0 and less than ${SECRET_DATA_MAX + 1} bytes`;

// Fields of one --driver-opts value, as Go's CSV reader splits them ("a=1,b=2", '"cmd=x,y",c=3').
export const splitCsv = (value: string): string[] => {
  const fields: string[] = [];
  let i = 0;
  while (i <= value.length) {
    if (value[i] === '"') {
      let field = '';
      for (i++; i < value.length; i++) {
        if (value[i] === '"' && value[i + 1] === '"') field += value[i++];
        else if (value[i] === '"') break;
        else field += value[i];
      }
      if (i >= value.length) throw new CliError('EUSAGE', `invalid --driver-opts "${value}": a quote is not closed`);
      i++;
      if (i < value.length && value[i] !== ',') throw new CliError('EUSAGE', `invalid --driver-opts "${value}": text after a closing quote`);
      fields.push(field);
      i++;
    } else {
      const comma = value.indexOf(',', i);
      const end = comma < 0 ? value.length : comma;
      fields.push(value.slice(i, end));
      i = end + 1;
    }
  }
  return fields;
};

// --driver-opts, repeated or comma-separated: KEY=VALUE each (later ones win).
export const parseDriverOpts = (values: string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const field of values.flatMap(splitCsv)) {
    const eq = field.indexOf('=');
    if (eq < 1) throw new CliError('EUSAGE', `invalid --driver-opts "${field}": use KEY=VALUE`);
    out[field.slice(0, eq)] = field.slice(eq + 1);
  }
  return out;
};

const parseLabels = (labels: string[]): Record<string, string> =>
  Object.fromEntries(labels.map((l) => (l.includes('=') ? [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] : [l, ''])));

// secret ls --filter: name= and id= (regular expressions, as Podman's), driver=, label=KEY[=VALUE].
// The same key twice: either value; different keys: all must hold.
export const secretFilter = (filters: string[]): ((s: SecretRecord) => boolean) => {
  const tests = filters.map((filter) => {
    const eq = filter.indexOf('=');
    const [key, value] = [filter.slice(0, eq), filter.slice(eq + 1)];
    const regex = () => {
      try {
        return new RegExp(value);
      } catch {
        throw new CliError('EUSAGE', `invalid secret filter "${filter}": the value is not a regular expression`);
      }
    };
    switch (eq < 1 ? '' : key) {
      case 'name': {
        const re = regex();
        return { key, test: (s: SecretRecord) => re.test(s.Name) };
      }
      case 'id': {
        const re = regex();
        return { key, test: (s: SecretRecord) => re.test(s.ID) };
      }
      case 'driver':
        return { key, test: (s: SecretRecord) => s.Driver === value };
      case 'label': {
        const at = value.indexOf('=');
        return { key, test: (s: SecretRecord) => (at < 0 ? value in s.Labels : s.Labels[value.slice(0, at)] === value.slice(at + 1)) };
      }
      default:
        throw new CliError('EUSAGE', `invalid secret filter "${filter}": use name=, id=, driver= or label=`);
    }
  });
  return (s) => [...new Set(tests.map((t) => t.key))].every((key) => tests.filter((t) => t.key === key).some((t) => t.test(s)));
};

// The data, within Podman's size rule (more than 0 bytes, less than 512000).
const readSource = async (source: SecretSource): Promise<Buffer> => {
  let data: Buffer;
  if ('env' in source) {
    const value = process.env[source.env];
    if (!value) throw new CliError('EUSAGE', `cannot create the secret: environment variable ${source.env} is not set`);
    data = Buffer.from(value);
  } else {
    let fd: number | undefined;
    if ('file' in source) {
      try {
        fd = openSync(source.file, constants.O_RDONLY);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new CliError('EUSAGE', `cannot read ${source.file}: ${code === 'ENOENT' ? 'no such file' : messageOf(error)}`);
      }
    }
    const bound = { what: 'secret data', limit: SECRET_DATA_MAX, code: 'EUSAGE' as const };
    try {
      data = fd === undefined ? await readBounded((source as { stream: Readable }).stream, bound) : readBoundedFd(fd, bound);
    } catch (error) {
      // The readers' only error of their own is the one for data past the bound.
      if (error instanceof CliError) throw new CliError('EUSAGE', `${SIZE_RULE}: it has more`);
      throw new CliError('EUSAGE', `cannot read the secret data: ${messageOf(error)}`, { cause: error });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  if (data.length === 0) throw new CliError('EUSAGE', `${SIZE_RULE}: it is empty`);
  return data;
};

export class SecretsEngine {
  constructor(private readonly ctx: EngineContext) {}

  // `secret create`: the new secret's record (with --ignore, the one already there).
  async create(name: string, source: SecretSource, options: SecretCreateOptions = {}): Promise<SecretRecord> {
    checkSecretName(name);
    if (options.replace && options.ignore) throw new CliError('EUSAGE', 'cannot use --ignore and --replace together: pick one');
    const driver = options.driver ?? 'file';
    const driverOptions = parseDriverOpts(options.driverOpts ?? []);
    const labels = parseLabels(options.labels ?? []);
    if (options.ignore && this.ctx.secrets.list().some((s) => s.Name === name)) return this.ctx.secrets.find(name);
    const data = await readSource(source);
    return this.ctx.secrets.create(name, data, { driver, driverOptions, labels, replace: options.replace, ignore: options.ignore });
  }

  list(filters: string[] = []): SecretRecord[] {
    return this.ctx.secrets.list().filter(secretFilter(filters));
  }

  inspect(nameOrId: string): SecretRecord {
    return this.ctx.secrets.find(nameOrId);
  }

  exists(nameOrId: string): boolean {
    try {
      return this.ctx.secrets.lookup(nameOrId) !== undefined;
    } catch {
      return false; // an ambiguous id prefix names no one secret
    }
  }

  // `secret rm`: the removed secret's id; with `ignore`, undefined for one that does not exist.
  async remove(nameOrId: string, options: { ignore?: boolean } = {}): Promise<string | undefined> {
    if (!this.ctx.secrets.lookup(nameOrId)) {
      checkSecretName(nameOrId);
      if (options.ignore) return undefined;
    }
    try {
      return (await this.ctx.secrets.remove(nameOrId)).ID;
    } catch (error) {
      if (options.ignore && error instanceof CliError && error.code === 'ENOSECRET' && !this.ctx.secrets.lookup(nameOrId)) return undefined;
      throw error;
    }
  }
}
