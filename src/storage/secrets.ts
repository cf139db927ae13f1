// Secrets: secrets/db/<id>.json, the record (name, driver, labels, times), and the data, which the
// secret's driver keeps (secret-drivers.ts). The directory is the user's alone (0700), every file
// in it 0600, each written to a temp file and renamed. Creation, replacement and removal hold the
// secrets lock. The data is stored before its record is written: a killed create leaves data no
// record names, which the next change sweeps (file driver). A removal deletes the data, then the
// record (a failing shell delete= leaves the secret whole, as Podman's).
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { listDir, readJsonIfExists, sweepStaleTemps, writeJsonAtomic } from '../util/fs.js';
import { withLock } from '../util/lock.js';
import { checkDriverOptions, secretDriver } from './secret-drivers.js';

export interface SecretRecord {
  /** 25 hex digits, as Podman's. */
  ID: string;
  Name: string;
  Driver: string;
  DriverOptions: Record<string, string>;
  Labels: Record<string, string>;
  CreatedAt: string;
  UpdatedAt: string;
}

export interface StoreSecretOptions {
  driver: string;
  driverOptions: Record<string, string>;
  labels: Record<string, string>;
  /** A secret of that name is replaced (a new id; CreatedAt kept). */
  replace?: boolean;
  /** A secret of that name is left as it is (its id is returned). */
  ignore?: boolean;
}

const ID_LENGTH = 25;
const ID_RE = /^[0-9a-f]{25}$/;
// Podman's rule: at most 64 of [a-zA-Z0-9_.-], starting and ending with a letter or digit.
const SECRET_NAME_RE = /^[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,62}[a-zA-Z0-9])?$/;

// Refuses a name that breaks Podman's rule, in one line that says why.
export const checkSecretName = (name: string): void => {
  if (!SECRET_NAME_RE.test(name))
    throw new CliError(
      'EUSAGE',
      `invalid secret name ${JSON.stringify(name)}: use at most 64 letters, digits, _ . - starting and ending with a letter or digit`,
    );
};

export const noSuchSecret = (nameOrId: string): CliError => new CliError('ENOSECRET', `no secret with name or id "${nameOrId}": no such secret`);

export class SecretStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'secrets');
  }

  private get db(): string {
    return join(this.dir, 'db');
  }

  /** Where the file driver keeps data unless a secret says otherwise. */
  get fileDriverDir(): string {
    return join(this.dir, 'filedriver');
  }

  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(join(this.dir, '..', 'locks', 'secrets.lock'), fn, { timeoutMs: 60_000 });
  }

  // By name. While a replacement is under way both records are there: the newer one is the secret.
  list(): SecretRecord[] {
    return this.records().filter((s, i, all) => i === 0 || all[i - 1].Name !== s.Name);
  }

  // Every record, by name, the newest of a name first.
  private records(): SecretRecord[] {
    return listDir(this.db)
      .filter((f) => f.endsWith('.json') && ID_RE.test(f.slice(0, -'.json'.length)))
      .flatMap((f) => this.read(f.slice(0, -'.json'.length)) ?? [])
      .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : a.UpdatedAt < b.UpdatedAt ? 1 : -1));
  }

  private read(id: string): SecretRecord | undefined {
    try {
      const record = readJsonIfExists<SecretRecord>(join(this.db, `${id}.json`));
      return record?.ID === id ? record : undefined;
    } catch {
      return undefined; // a torn record: no secret
    }
  }

  // By exact name, then exact id, then a unique id prefix (Podman's order).
  lookup(nameOrId: string): SecretRecord | undefined {
    const all = this.list();
    const exact = all.find((s) => s.Name === nameOrId) ?? all.find((s) => s.ID === nameOrId);
    if (exact || !nameOrId || nameOrId.length > ID_LENGTH) return exact;
    const prefixed = all.filter((s) => s.ID.startsWith(nameOrId));
    if (prefixed.length > 1) throw new CliError('EUSAGE', `more than one secret has an id starting with ${nameOrId}: give more of it, or the name`);
    return prefixed[0];
  }

  find(nameOrId: string): SecretRecord {
    const record = this.lookup(nameOrId);
    if (!record) throw noSuchSecret(nameOrId);
    return record;
  }

  // The secret's data, from its driver.
  data(record: SecretRecord): Promise<Buffer> {
    return secretDriver(record.Driver, record.DriverOptions).lookup(record.ID);
  }

  // Stores a new secret (or replaces one of that name) and returns its record. Takes the lock.
  async create(name: string, data: Buffer, options: StoreSecretOptions): Promise<SecretRecord> {
    checkSecretName(name);
    const driverOptions = checkDriverOptions(options.driver, options.driverOptions, this.fileDriverDir);
    return this.withLock(async () => {
      await this.prepare();
      const old = this.list().find((s) => s.Name === name);
      if (old && options.ignore) return old;
      if (old && !options.replace) throw new CliError('EUSAGE', `${name}: secret name in use: use --replace to replace it, or another name`);
      const now = new Date().toISOString();
      const record: SecretRecord = {
        ID: await this.newId(),
        Name: name,
        Driver: options.driver,
        DriverOptions: driverOptions,
        Labels: options.labels,
        CreatedAt: old?.CreatedAt ?? now,
        UpdatedAt: now,
      };
      const driver = secretDriver(record.Driver, record.DriverOptions);
      await driver.store(record.ID, data);
      try {
        // The new record before the old one goes: a reader finds one of them, or both (the newer wins).
        writeJsonAtomic(join(this.db, `${record.ID}.json`), record, 0o600);
      } catch (error) {
        await driver.delete(record.ID).catch(() => undefined);
        throw error;
      }
      if (old) await this.removeLocked(old);
      return record;
    });
  }

  // Removes a secret by name or id; returns its record. Takes the lock.
  async remove(nameOrId: string): Promise<SecretRecord> {
    return this.withLock(async () => {
      await this.prepare();
      const record = this.find(nameOrId);
      await this.removeLocked(record);
      return record;
    });
  }

  // Under the lock: the driver's data first (a failing delete command leaves the secret as it
  // was, as Podman's), then the record.
  private async removeLocked(record: SecretRecord): Promise<void> {
    await secretDriver(record.Driver, record.DriverOptions).delete(record.ID);
    rmSync(join(this.db, `${record.ID}.json`), { force: true });
  }

  // Under the lock: the store's directories, the user's alone, without what killed commands left
  // (temp files, data no record names, the older record of a replacement).
  private async prepare(): Promise<void> {
    mkdirSync(join(this.dir, '..'), { recursive: true });
    for (const dir of [this.dir, this.db]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
    }
    const records = this.records();
    for (const [i, s] of records.entries()) if (i > 0 && records[i - 1].Name === s.Name) await this.removeLocked(s).catch(() => undefined); // tried again next time
    const ids = new Set(records.map((s) => s.ID));
    for (const dir of [this.db, this.fileDriverDir]) sweepStaleTemps(dir, (p) => rmSync(p, { force: true }));
    for (const name of listDir(this.fileDriverDir)) if (ID_RE.test(name) && !ids.has(name)) rmSync(join(this.fileDriverDir, name), { force: true });
  }

  private async newId(): Promise<string> {
    const { randomBytes } = await import('node:crypto');
    const taken = new Set(this.records().map((s) => s.ID));
    for (;;) {
      const id = randomBytes(13).toString('hex').slice(0, ID_LENGTH);
      if (!taken.has(id)) return id;
    }
  }
}
