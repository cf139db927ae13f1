// skiff compose against hostile files, as the test user with the real CLI: an alias bomb, /dev/zero
// and a FIFO as the compose file, /dev/zero as an env_file or a secret, a secret linked to a file
// the user cannot read, invalid and colliding names — each refused in one line (exit 125), quickly,
// with nothing made; and a container that attacks its secrets between runs changes nothing.
import { execFileSync } from 'node:child_process';
import { chownSync, lstatSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { useSandbox, userParents, writeUserFile } from '../helpers/cli.js';
import { testIds, TEST_USER } from '../helpers/user.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const sb = useSandbox('compose-attacks', { pull: [IMG] });
const LOOP = `["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]`;

const file = (name: string, text: string): string => writeUserFile(sb, join('proj', name), text);
const link = (name: string, target: string): string => {
  const path = userParents(sb, join(sb.dir, 'proj', name));
  symlinkSync(target, path);
  return path;
};

const env = () => ({ env: { ...sb.env, IMG }, timeoutMs: 60_000 });
const compose = async (code: number, path: string, args: string[]) => {
  const t0 = Date.now();
  const r = await sb.run(['compose', '-f', path, ...args], env());
  expect(r.code, `compose ${args.join(' ')}: ${r.stderr}`).toBe(code);
  return { ...r, ms: Date.now() - t0 };
};
const networks = async () => (await sb.runCli(0, 'network', 'ls', '--format', '{{.Name}}')).stdout.split('\n').filter(Boolean);
const names = async () => (await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}}')).stdout.split('\n').filter(Boolean).sort();

afterAll(async () => {
  await sb.run(['compose', '-f', join(sb.dir, 'proj', 'secrets.yaml'), 'down', '-v', '-t', '0'], env());
});

describe('compose attacks', () => {
  it('refuses an alias bomb in seconds, in one line', async () => {
    let text = 'x-a: &a ["x","x","x","x","x","x","x","x","x","x"]\n';
    let prev = 'a';
    for (const n of 'bcdefghi') {
      text += `x-${n}: &${n} [${Array(10).fill(`*${prev}`).join(',')}]\n`;
      prev = n;
    }
    const r = await compose(125, file('bomb.yaml', `${text}services:\n  web:\n    image: \${IMG}\n`), ['config']);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/bomb.yaml:\d+: x-.*: its aliases expand to more than 100000 values \(an alias bomb\?\): refusing it/);
    expect(r.ms).toBeLessThan(20_000);
  });

  it('refuses /dev/zero and a FIFO as the compose file without reading or waiting', async () => {
    const zero = await compose(125, '/dev/zero', ['config']);
    expect(zero.stderr).toMatch(/compose file \/dev\/zero is not a regular file \(a FIFO, socket or device\): give a file/);
    const pipe = userParents(sb, join(sb.dir, 'proj', 'pipe.yaml'));
    execFileSync('mkfifo', [pipe]);
    chownSync(pipe, testIds(TEST_USER).uid, testIds(TEST_USER).gid);
    const fifo = await compose(125, pipe, ['config']);
    expect(fifo.stderr).toMatch(/pipe.yaml is not a regular file/);
    expect(fifo.ms).toBeLessThan(20_000);
  });

  it('refuses /dev/zero as an env_file and as a secret, a secret linked to a file the user cannot read: nothing made', async () => {
    link('zero.env', '/dev/zero');
    const envFile = file('envfile.yaml', 'name: catk1\nservices:\n  web:\n    image: ${IMG}\n    env_file: ./zero.env\n');
    const e = await compose(125, envFile, ['up', '-d']);
    expect(e.stderr).toMatch(/env_file .*zero.env is not a regular file/);
    link('zero.secret', '/dev/zero');
    const secret = file('zsecret.yaml', 'name: catk2\nservices:\n  web:\n    image: ${IMG}\n    secrets: [s]\nsecrets:\n  s:\n    file: ./zero.secret\n');
    const s = await compose(125, secret, ['create']);
    expect(s.stderr).toMatch(/services.web.secrets.s: .*zero.secret is not a regular file/);
    link('shadow', '/etc/shadow');
    const shadow = file('shadow.yaml', 'name: catk3\nservices:\n  web:\n    image: ${IMG}\n    secrets: [s]\nsecrets:\n  s:\n    file: ./shadow\n');
    const sh = await compose(125, shadow, ['create']);
    expect(sh.stderr).toMatch(/services.web.secrets.s: cannot read .*shadow: EACCES/);
    expect(await names()).toEqual([]);
    for (const p of ['catk2', 'catk3']) await sb.run(['compose', '-p', p, '-f', secret, 'down'], env());
  });

  it('refuses invalid and colliding names before anything is made', async () => {
    const plainFile = file('names.yaml', 'services:\n  web:\n    image: ${IMG}\n');
    expect((await compose(125, plainFile, ['-p', '../x', 'up', '-d'])).stderr).toMatch(/-p "..\/x" is not a valid project name/);
    expect((await compose(125, plainFile, ['-p', 'Upper', 'up', '-d'])).stderr).toMatch(/-p "Upper" is not a valid project name/);
    const slash = file('slash.yaml', 'services:\n  a/b:\n    image: ${IMG}\n');
    expect((await compose(125, slash, ['up', '-d'])).stderr).toMatch(/slash.yaml:2: services.a\/b is not a valid name/);
    const twice = file(
      'twice.yaml',
      `name: catk4\nservices:\n  a:\n    image: \${IMG}\n    command: ${LOOP}\n  b:\n    image: \${IMG}\n    command: ${LOOP}\n    container_name: catk4-a-1\n`,
    );
    const r = await compose(125, twice, ['up', '-d']);
    expect(r.stderr).toMatch(/services.b.container_name: "catk4-a-1" is the name of service a's container: give it another/);
    expect(await networks()).not.toContain('catk4_default');
    expect(await names()).toEqual([]);
  });

  it('up with a secret it cannot read makes nothing: no network, no volume', async () => {
    link('shadow2', '/etc/shadow');
    const path = file(
      'upshadow.yaml',
      'name: catk6\nservices:\n  web:\n    image: ${IMG}\n    volumes: [data:/d]\n    secrets: [s]\nsecrets:\n  s:\n    file: ./shadow2\nvolumes:\n  data:\n',
    );
    expect((await compose(125, path, ['up', '-d'])).stderr).toMatch(/services.web.secrets.s: cannot read .*shadow2: EACCES/);
    expect(await networks()).not.toContain('catk6_default');
    expect((await sb.run(['volume', 'exists', 'catk6_data'])).code).toBe(1);
  });

  it("another project's volume or network of the same name is not taken silently", async () => {
    // Project "ca" with volume "b_c" and project "ca_b" with volume "c" both name "ca_b_c".
    const a = file('va.yaml', `name: ca\nservices:\n  web:\n    image: \${IMG}\n    command: ${LOOP}\n    volumes: [b_c:/d]\nvolumes:\n  b_c:\n`);
    const b = file('vb.yaml', `name: ca_b\nservices:\n  web:\n    image: \${IMG}\n    command: ${LOOP}\n    volumes: [c:/d]\nvolumes:\n  c:\n`);
    await compose(0, a, ['up', '-d']);
    const r = await compose(0, b, ['up', '-d']);
    expect(r.stderr).toMatch(/volume "ca_b_c" already exists but was created for project "ca" \(expected "ca_b"\)/);
    // A network of that name made outside compose: used, with compose's warning.
    await sb.runCli(0, 'network', 'create', 'cn_default');
    const n = file('vn.yaml', `name: cn\nservices:\n  web:\n    image: \${IMG}\n    command: ${LOOP}\n`);
    expect((await compose(0, n, ['up', '-d'])).stderr).toMatch(/a network with name cn_default exists but was not created by compose/);
    for (const f of [n, b, a]) await compose(0, f, ['down', '-v', '-t', '0']);
    await sb.run(['network', 'rm', 'cn_default']);
  });

  it('a container that attacks its secrets and configs between runs changes nothing on the host', async () => {
    file('token.txt', 's3cret\n');
    const path = file(
      'secrets.yaml',
      `name: catk5\nservices:\n  web:\n    image: \${IMG}\n    command: ${LOOP}\n    secrets:\n      - source: token\n        target: ../../../../etc/token\n    configs: [app]\nsecrets:\n  token:\n    file: ./token.txt\nconfigs:\n  app:\n    content: key=value\n`,
    );
    await compose(0, path, ['up', '-d']);
    const shell = (script: string) => sb.run(['exec', 'catk5-web-1', 'sh', '-c', script]);
    // The target with .. stays inside the container: /etc/token.
    expect((await shell('read l < /etc/token; echo $l')).stdout).toBe('s3cret\n');
    // Read-only, and /run/secrets takes no new entry (a link to plant for the next run).
    for (const attack of ['echo x > /etc/token', 'echo x > /app', 'echo x > /run/secrets/new', 'cd /run/secrets && ln -s / evil'])
      expect((await shell(attack)).code, attack).not.toBe(0);
    const [inspect] = JSON.parse((await sb.runCli(0, 'inspect', 'catk5-web-1')).stdout);
    const copies = join(sb.dataDir, 'containers', inspect.Id, 'userdata', 'secrets');
    const before = readdirSync(copies).map((f) => readFileSync(join(copies, f), 'utf8'));
    await compose(0, path, ['restart']);
    await compose(0, path, ['stop']);
    await compose(0, path, ['start']);
    expect((await shell('read l < /etc/token; echo $l')).stdout).toBe('s3cret\n');
    for (const f of readdirSync(copies)) expect(lstatSync(join(copies, f)).isFile()).toBe(true);
    expect(readdirSync(copies).map((f) => readFileSync(join(copies, f), 'utf8'))).toEqual(before);
    await compose(0, path, ['down', '-t', '0']);
  });
});
