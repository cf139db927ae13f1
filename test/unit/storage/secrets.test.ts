import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkSecretName, SecretStore } from '../../../src/storage/secrets.js';

let dir: string;
let store: SecretStore;
const file = { driver: 'file', driverOptions: {}, labels: {} };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-secrets-'));
  store = new SecretStore(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('secret names', () => {
  it("takes Podman's names and refuses the rest, ../x among them", () => {
    for (const ok of ['a', 'A9', 'db.pass_1-x', 'x'.repeat(64)]) expect(() => checkSecretName(ok), ok).not.toThrow();
    for (const bad of ['', '../x', 'a/b', '.a', 'a.', 'a-', '-a', '_a', 'a b', 'x'.repeat(65)])
      expect(() => checkSecretName(bad), bad).toThrow(/invalid secret name/);
  });
});

describe('the file driver', () => {
  it('keeps the data in a 0600 file of a 0700 directory, the record 0600 too', async () => {
    const record = await store.create('tok', Buffer.from('s3cret'), file);
    expect(record.ID).toMatch(/^[0-9a-f]{25}$/);
    expect(record.DriverOptions).toEqual({ path: join(dir, 'secrets', 'filedriver') });
    const data = join(dir, 'secrets', 'filedriver', record.ID);
    expect(readFileSync(data, 'utf8')).toBe('s3cret');
    expect(statSync(data).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'secrets', 'db', `${record.ID}.json`)).mode & 0o777).toBe(0o600);
    for (const d of ['secrets', 'secrets/db', 'secrets/filedriver']) expect(statSync(join(dir, d)).mode & 0o777, d).toBe(0o700);
    expect((await store.data(record)).toString()).toBe('s3cret');
  });

  it('finds by name, id and unique id prefix; an ambiguous prefix is an error', async () => {
    const a = await store.create('a', Buffer.from('1'), file);
    await store.create('b', Buffer.from('2'), file);
    expect(store.find('a').ID).toBe(a.ID);
    expect(store.find(a.ID).Name).toBe('a');
    expect(store.find(a.ID.slice(0, 12)).Name).toBe('a');
    expect(store.lookup('nope')).toBeUndefined();
    expect(() => store.find('nope')).toThrow('no secret with name or id "nope": no such secret');
    // Two ids with a common start (written as the store writes records).
    for (const [name, id] of [
      ['c', 'fff0000000000000000000000'],
      ['d', 'fff1111111111111111111111'],
    ])
      writeFileSync(join(dir, 'secrets', 'db', `${id}.json`), JSON.stringify({ ...a, ID: id, Name: name }));
    expect(() => store.find('fff')).toThrow('more than one secret has an id starting with fff');
    expect(store.find('fff1').Name).toBe('d');
  });

  it('refuses a name in use, replaces with --replace (new id, CreatedAt kept, old data gone), keeps it with --ignore', async () => {
    const first = await store.create('tok', Buffer.from('one'), file);
    await expect(store.create('tok', Buffer.from('two'), file)).rejects.toThrow('tok: secret name in use');
    expect(await store.create('tok', Buffer.from('two'), { ...file, ignore: true })).toEqual(first);
    const second = await store.create('tok', Buffer.from('two'), { ...file, replace: true });
    expect(second.ID).not.toBe(first.ID);
    expect(second.CreatedAt).toBe(first.CreatedAt);
    expect(store.list().map((s) => s.ID)).toEqual([second.ID]);
    expect(existsSync(join(dir, 'secrets', 'filedriver', first.ID))).toBe(false);
    expect((await store.data(store.find('tok'))).toString()).toBe('two');
  });

  it('removes record and data; what a killed command left goes at the next change', async () => {
    const a = await store.create('a', Buffer.from('1'), file);
    expect((await store.remove('a')).ID).toBe(a.ID);
    expect(readdirSync(join(dir, 'secrets', 'filedriver'))).toEqual([]);
    expect(readdirSync(join(dir, 'secrets', 'db'))).toEqual([]);
    await expect(store.remove('a')).rejects.toThrow(/no such secret/);
    // Data a killed create left with no record, and a temp file of a gone writer.
    writeFileSync(join(dir, 'secrets', 'filedriver', 'abcdef0123456789abcdef012'), 'orphan');
    writeFileSync(join(dir, 'secrets', 'db', '.tmp-x.json-999999999-0000abcd'), '{');
    const b = await store.create('b', Buffer.from('2'), file);
    expect(readdirSync(join(dir, 'secrets', 'filedriver'))).toEqual([b.ID]);
    expect(readdirSync(join(dir, 'secrets', 'db'))).toEqual([`${b.ID}.json`]);
  });

  it('refuses unknown options, a relative path= and the pass driver; stores under an absolute path=', async () => {
    await expect(store.create('a', Buffer.from('1'), { ...file, driverOptions: { bogus: 'x' } })).rejects.toThrow(/takes only path=/);
    await expect(store.create('a', Buffer.from('1'), { ...file, driverOptions: { path: 'rel' } })).rejects.toThrow(/absolute directory/);
    await expect(store.create('a', Buffer.from('1'), { ...file, driver: 'pass' })).rejects.toThrow(/secret driver pass is not supported/);
    await expect(store.create('a', Buffer.from('1'), { ...file, driver: 'vault' })).rejects.toThrow(/invalid secret driver "vault"/);
    const elsewhere = join(dir, 'elsewhere');
    const record = await store.create('a', Buffer.from('1'), { ...file, driverOptions: { path: elsewhere } });
    expect(readFileSync(join(elsewhere, record.ID), 'utf8')).toBe('1');
    expect(statSync(elsewhere).mode & 0o777).toBe(0o700);
  });
});

describe('the shell driver', () => {
  it('runs store, lookup and delete with SECRET_ID set, the data on stdin and stdout', async () => {
    const keep = join(dir, 'kept');
    const driverOptions = {
      list: `ls ${keep}`,
      store: `mkdir -p ${keep} && cat > ${keep}/$SECRET_ID`,
      lookup: `cat ${keep}/$SECRET_ID`,
      delete: `rm ${keep}/$SECRET_ID`,
    };
    const bytes = Buffer.from([0, 1, 2, 255, 10]);
    const record = await store.create('sh', bytes, { driver: 'shell', driverOptions, labels: { a: 'b' } });
    expect(readFileSync(join(keep, record.ID))).toEqual(bytes);
    expect(await store.data(record)).toEqual(bytes);
    await store.remove('sh');
    expect(existsSync(join(keep, record.ID))).toBe(false);
  });

  it('needs all four commands, and a failing command fails the change naming it', async () => {
    await expect(store.create('sh', Buffer.from('x'), { driver: 'shell', driverOptions: { list: 'true' }, labels: {} })).rejects.toThrow(
      /needs the commands lookup=, store=, delete=/,
    );
    const driverOptions = { list: 'true', store: 'echo no space >&2; exit 3', lookup: 'true', delete: 'true' };
    await expect(store.create('sh', Buffer.from('x'), { driver: 'shell', driverOptions, labels: {} })).rejects.toThrow(
      /the store command failed for secret [0-9a-f]+: no space/,
    );
    expect(store.list()).toEqual([]);
  });
});
