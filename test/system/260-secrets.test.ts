// Podman's secrets: secret create (file, standard input, --env; the file and shell drivers),
// ls/inspect/rm/exists with their formats and filters, and run/create --secret as a read-only file
// at /run/secrets/NAME (or a target) or an environment variable, in real containers. The data stays
// the user's (0700/0600 in the store), a name cannot leave the store, a container gets a copy it
// cannot write (so `secret rm` does not break it), and a target that is a symlink in the image
// never leads the mount onto the host.
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { testIds, useSandbox } from '../helpers/cli.js';
import { makeLayer } from '../helpers/layers.js';
import { buildImage, pushImage } from '../helpers/registry.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const sb = useSandbox('secrets', { pull: [IMG] });

// A file made by root for the test user.
const userFile = (name: string, content: string | Buffer): string => {
  const path = join(sb.home, name);
  writeFileSync(path, content);
  chownSync(path, testIds().uid, testIds().gid);
  return path;
};
// `secret create NAME -` with `data` on standard input; its id.
const create = async (name: string, data: string, ...flags: string[]): Promise<string> => {
  const r = await sb.run(['secret', 'create', ...flags, name, '-'], { input: data });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
};
const errorLine = async (args: string[], code = 125, input?: string): Promise<string> => {
  const r = await sb.run(args, input === undefined ? {} : { input });
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  return r.stderr.trim();
};
// A file's content in the container, read with shell builtins (the image has no cat).
const show = (path: string) => `while IFS= read -r l || [ -n "$l" ]; do printf '%s\\n' "$l"; done < ${path}`;

afterEach(async () => {
  await sb.run(['rm', '-a', '-f', '-t', '0']);
  await sb.run(['secret', 'rm', '--all']);
});

describe('secret create, ls, inspect, exists, rm', () => {
  it('creates from a file, standard input and a variable, and lists, inspects and filters as Podman', async () => {
    const fromFile = (await sb.runCli(0, 'secret', 'create', '--label', 'app=db', '-l', 'tier', 'db-pass', userFile('pw', 'hunter2\n'))).stdout.trim();
    expect(fromFile).toMatch(/^[0-9a-f]{25}$/);
    const r = await sb.run(['secret', 'create', 'api-key', '-'], { input: 'k3y' });
    expect(r.code, r.stderr).toBe(0);
    const env = await sb.run(['secret', 'create', '--env', 'from-env', 'MY_TOKEN'], { env: { MY_TOKEN: 'tok-from-env' } });
    expect(env.code, env.stderr).toBe(0);

    const ls = (await sb.runCli(0, 'secret', 'ls')).stdout.trim().split('\n');
    expect(ls[0]).toMatch(/^ID\s+NAME\s+DRIVER\s+CREATED\s+UPDATED$/);
    expect(ls.slice(1).map((l) => l.split(/\s{2,}/).slice(1, 3))).toEqual([
      ['api-key', 'file'],
      ['db-pass', 'file'],
      ['from-env', 'file'],
    ]);
    expect(ls[2]).toMatch(new RegExp(`^${fromFile}\\s+db-pass\\s+file\\s+(Less than a second|\\d+ seconds?) ago`));
    expect((await sb.runCli(0, 'secret', 'list', '--noheading')).stdout.trim().split('\n')).toHaveLength(3);
    expect((await sb.runCli(0, 'secret', 'ls', '-q', '--filter', 'name=^db')).stdout).toBe(`${fromFile}\n`);
    expect((await sb.runCli(0, 'secret', 'ls', '--format', '{{.Name}}:{{.Driver}}', '--filter', 'label=app=db')).stdout).toBe('db-pass:file\n');
    expect((await sb.runCli(0, 'secret', 'ls', '--format', '{{.Name}}', '-f', 'label=tier', '-f', 'driver=file')).stdout).toBe('db-pass\n');
    expect((await sb.runCli(0, 'secret', 'ls', '--format', '{{.Name}}', '-f', `id=${fromFile.slice(0, 6)}`)).stdout).toBe('db-pass\n');
    expect((await sb.runCli(0, 'secret', 'ls', '-q', '-f', 'driver=shell')).stdout).toBe('');
    expect(await errorLine(['secret', 'ls', '--filter', 'dangling=true'])).toMatch(/invalid secret filter "dangling=true"/);
    const listed = JSON.parse((await sb.runCli(0, 'secret', 'ls', '--format', 'json')).stdout);
    expect(listed.map((s: { Spec: { Name: string } }) => s.Spec.Name)).toEqual(['api-key', 'db-pass', 'from-env']);

    const [report] = JSON.parse((await sb.runCli(0, 'secret', 'inspect', 'db-pass')).stdout);
    expect(Object.keys(report)).toEqual(['ID', 'CreatedAt', 'UpdatedAt', 'Spec']);
    expect(report.ID).toBe(fromFile);
    expect(report.CreatedAt).toBe(report.UpdatedAt);
    expect(report.Spec).toEqual({
      Name: 'db-pass',
      Driver: { Name: 'file', Options: { path: join(sb.dataDir, 'secrets', 'filedriver') } },
      Labels: { app: 'db', tier: '' },
    });
    // By id and by id prefix; a template per secret; --pretty.
    expect((await sb.runCli(0, 'secret', 'inspect', '--format', '{{.Spec.Name}} {{.Spec.Labels.app}}', fromFile, fromFile.slice(0, 8))).stdout).toBe(
      'db-pass db\ndb-pass db\n',
    );
    const pretty = (await sb.runCli(0, 'secret', 'inspect', '--pretty', 'db-pass')).stdout;
    expect(pretty).toMatch(new RegExp(`^ID:\\s+${fromFile}\\nName:\\s+db-pass\\nLabels:\\n - app=db\\n - tier\\nDriver:\\s+file\\nCreated at:\\s+\\d{4}-`));
    expect(JSON.stringify(JSON.parse((await sb.runCli(0, 'secret', 'inspect', 'db-pass')).stdout))).not.toContain('hunter2');

    await sb.runCli(0, 'secret', 'exists', 'db-pass');
    await sb.runCli(0, 'secret', 'exists', fromFile);
    await sb.runCli(1, 'secret', 'exists', 'nope');

    expect((await sb.runCli(0, 'secret', 'rm', 'db-pass', 'api-key')).stdout.trim().split('\n')).toHaveLength(2);
    expect((await sb.runCli(0, 'secret', 'rm', '--all')).stdout.trim().split('\n')).toHaveLength(1);
    expect((await sb.runCli(0, 'secret', 'ls', '-q')).stdout).toBe('');
  });

  it('keeps the data 0600 in a 0700 directory of the store, never in the records', async () => {
    const id = await create('tok', 'the-data');
    const data = join(sb.dataDir, 'secrets', 'filedriver', id);
    expect(readFileSync(data, 'utf8')).toBe('the-data');
    expect(statSync(data).mode & 0o777).toBe(0o600);
    expect(statSync(data).uid).toBe(testIds().uid);
    for (const dir of ['secrets', 'secrets/db', 'secrets/filedriver']) expect(statSync(join(sb.dataDir, dir)).mode & 0o777, dir).toBe(0o700);
    const record = join(sb.dataDir, 'secrets', 'db', `${id}.json`);
    expect(statSync(record).mode & 0o777).toBe(0o600);
    expect(readFileSync(record, 'utf8')).not.toContain('the-data');
  });

  it('replaces with --replace (a new id, the old data gone) and keeps with --ignore', async () => {
    const first = await create('tok', 'one');
    expect(await errorLine(['secret', 'create', 'tok', '-'], 125, 'two')).toBe('Error: tok: secret name in use: use --replace to replace it, or another name');
    expect(await create('tok', 'two', '--ignore')).toBe(first);
    const second = await create('tok', 'two', '--replace');
    expect(second).not.toBe(first);
    expect(readdirSync(join(sb.dataDir, 'secrets', 'filedriver'))).toEqual([second]);
    const [report] = JSON.parse((await sb.runCli(0, 'secret', 'inspect', 'tok')).stdout);
    expect(report.UpdatedAt > report.CreatedAt).toBe(true);
    expect(await errorLine(['secret', 'create', '--replace', '--ignore', 'tok', '-'], 125, 'x')).toMatch(/cannot use --ignore and --replace together/);
  });

  it('refuses bad names, sizes, sources and drivers in one line, and writes nothing', async () => {
    const outside = join(sb.dataDir, 'x');
    expect(await errorLine(['secret', 'create', '../x', userFile('d', 'data')])).toMatch(/invalid secret name "\.\.\/x"/);
    expect(await errorLine(['secret', 'create', 'a/../../x', userFile('d', 'data')])).toMatch(/invalid secret name/);
    expect(existsSync(outside)).toBe(false);
    expect(existsSync(join(sb.dataDir, 'secrets', 'x'))).toBe(false);
    expect(await errorLine(['secret', 'rm', '../x'])).toMatch(/invalid secret name "\.\.\/x"/);
    expect(await errorLine(['secret', 'create', 'e', userFile('empty', '')])).toMatch(/secret data must be larger than 0 and less than 512000 bytes/);
    expect(await errorLine(['secret', 'create', 'big', userFile('big', Buffer.alloc(512000, 'a'))])).toMatch(/less than 512000 bytes/);
    expect(await errorLine(['secret', 'create', 'big', '-'], 125, 'a'.repeat(600_000))).toMatch(/less than 512000 bytes/);
    await sb.runCli(0, 'secret', 'create', 'max', userFile('max', Buffer.alloc(511_999, 'a')));
    expect(await errorLine(['secret', 'create', 'f', join(sb.home, 'missing')])).toMatch(/cannot read .*missing: no such file/);
    expect(await errorLine(['secret', 'create', '--env', 'v', 'SKIFF_UNSET_VAR'])).toMatch(/environment variable SKIFF_UNSET_VAR is not set/);
    expect(await errorLine(['secret', 'create', '--driver', 'pass', 'p', userFile('d', 'data')])).toMatch(/secret driver pass is not supported by skiff/);
    expect(await errorLine(['secret', 'create', '--driver', 'vault', 'p', userFile('d', 'data')])).toMatch(/invalid secret driver "vault"/);
    expect(await errorLine(['secret', 'create', '--driver-opts', 'bogus=1', 'p', userFile('d', 'data')])).toMatch(/invalid driver option "bogus"/);
    expect((await sb.runCli(0, 'secret', 'ls', '--format', '{{.Name}}')).stdout).toBe('max\n');
    expect(await errorLine(['secret', 'inspect', 'nope'])).toBe('Error: no secret with name or id "nope": no such secret');
    expect(await errorLine(['secret', 'rm', 'nope'])).toBe('Error: no secret with name or id "nope": no such secret');
    expect((await sb.runCli(0, 'secret', 'rm', '--ignore', 'nope')).stdout).toBe('');
    expect(await errorLine(['secret', 'rm'])).toMatch(/secret rm needs secret names or ids, or --all/);
    expect(await errorLine(['secret', 'rm', '--all', 'max'])).toMatch(/secret rm needs secret names or ids, or --all/);
  });
});

describe('run/create --secret', () => {
  it('gives a read-only file at /run/secrets/NAME (0444, root) and at targets with their owner and mode', async () => {
    await create('tok', 'secret-value');
    const script = [
      show('/run/secrets/tok'),
      show('/run/secrets/sub/key'),
      show('/etc/app.key'),
      'ls -ln /run/secrets/tok /run/secrets/sub/key /etc/app.key',
      'echo overwrite > /run/secrets/tok && echo WROTE',
      'echo new > /run/secrets/new && echo MADE',
      'true',
    ].join('; ');
    const r = await sb.runCli(
      0,
      'run',
      '--rm',
      '--secret',
      'tok',
      '--secret',
      'tok,target=sub/key,uid=5,gid=6,mode=0400',
      '--secret',
      'source=tok,target=/etc/app.key,mode=0440',
      IMG,
      'sh',
      '-c',
      script,
    );
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual(['secret-value', 'secret-value', 'secret-value']);
    const modes = Object.fromEntries(lines.slice(3, 6).map((l) => [l.split(/\s+/).pop(), l.split(/\s+/).slice(0, 4).join(' ')]));
    expect(modes).toEqual({
      '/run/secrets/tok': '-r--r--r-- 1 0 0',
      '/run/secrets/sub/key': '-r-------- 1 5 6',
      '/etc/app.key': '-r--r----- 1 0 0',
    });
    expect(r.stdout).not.toMatch(/WROTE|MADE/);
    expect(r.stderr).toMatch(/Read-only file system/);
  });

  it('sets type=env secrets as variables at each start, never in inspect; inspect shows the mount secrets', async () => {
    const id = await create('tok', 'env-value');
    const made = (
      await sb.runCli(
        0,
        'create',
        '--name',
        'c',
        '--secret',
        'tok,type=env',
        '--secret',
        'tok,type=env,target=API_KEY',
        '--secret',
        'tok',
        IMG,
        'sh',
        '-c',
        'echo "$tok $API_KEY"',
      )
    ).stdout.trim();
    expect(made).toMatch(/^[0-9a-f]{64}$/);
    const [inspect] = JSON.parse((await sb.runCli(0, 'container', 'inspect', 'c')).stdout);
    expect(inspect.Config.Secrets).toEqual([{ Name: 'tok', ID: id, UID: 0, GID: 0, Mode: 0o444 }]);
    expect(JSON.stringify(inspect)).not.toContain('env-value');
    expect((await sb.runCli(0, 'start', '-a', 'c')).stdout).toBe('env-value env-value\n');
    // The runtime's spec holds the value: it is the user's alone.
    expect(statSync(join(sb.dataDir, 'containers', made, 'bundle', 'config.json')).mode & 0o777).toBe(0o600);
  });

  it('keeps a mount secret working after secret rm (a copy, not the store), and fails the start of an env one', async () => {
    await create('tok', 'still-here');
    await sb.runCli(0, 'run', '-d', '--name', 'keeper', '--secret', 'tok', IMG, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done');
    await sb.runCli(0, 'create', '--name', 'needs-env', '--secret', 'tok,type=env', IMG, 'sh', '-c', 'echo $tok');
    await sb.runCli(0, 'secret', 'rm', 'tok');
    expect((await sb.runCli(0, 'exec', 'keeper', 'sh', '-c', show('/run/secrets/tok'))).stdout).toBe('still-here\n');
    await sb.runCli(0, 'restart', '-t', '0', 'keeper');
    expect((await sb.runCli(0, 'exec', 'keeper', 'sh', '-c', show('/run/secrets/tok'))).stdout).toBe('still-here\n');
    expect(await errorLine(['start', 'needs-env'])).toMatch(/secret tok of environment variable tok is gone: no such secret/);
    // A secret of that name again: the env one takes its new value, the mount one keeps its copy.
    await create('tok', 'new-value');
    expect((await sb.runCli(0, 'start', '-a', 'needs-env')).stdout).toBe('new-value\n');
    expect((await sb.runCli(0, 'exec', 'keeper', 'sh', '-c', show('/run/secrets/tok'))).stdout).toBe('still-here\n');
  });

  it('refuses a missing secret and bad options in one line, creating nothing', async () => {
    expect(await errorLine(['run', '--rm', '--secret', 'nope', IMG, 'true'])).toBe('Error: no secret with name or id "nope": no such secret');
    await create('tok', 'x');
    expect(await errorLine(['create', '--secret', 'tok,type=env,mode=0400', IMG, 'true'])).toMatch(/mode= applies to type=mount only/);
    expect(await errorLine(['create', '--secret', 'tok,type=bogus', IMG, 'true'])).toMatch(/type=bogus: use type=mount or type=env/);
    expect(await errorLine(['create', '--secret', 'tok,target=/run', IMG, 'true'])).toMatch(/would cover \/run\/secrets/);
    expect(await errorLine(['create', '--secret', 'tok', '--secret', 'tok,target=/run/secrets/tok', IMG, 'true'])).toMatch(
      /two --secret flags have the target/,
    );
    expect((await sb.runCli(0, 'ps', '-a', '-q')).stdout).toBe('');
  });

  it('takes secrets kept by the shell driver', async () => {
    const kept = join(sb.dir, 'kept');
    mkdirSync(kept);
    chownSync(kept, testIds().uid, testIds().gid);
    const opts = `list=ls ${kept},lookup=cat ${kept}/$SECRET_ID,store=cat > ${kept}/$SECRET_ID,delete=rm ${kept}/$SECRET_ID`;
    const id = (await sb.runCli(0, 'secret', 'create', '--driver', 'shell', '--driver-opts', opts, 'sh-tok', userFile('d', 'from-shell'))).stdout.trim();
    expect(readFileSync(join(kept, id), 'utf8')).toBe('from-shell');
    expect((await sb.runCli(0, 'secret', 'ls', '--format', '{{.Driver}}')).stdout).toBe('shell\n');
    const r = await sb.runCli(
      0,
      'run',
      '--rm',
      '--secret',
      'sh-tok',
      '--secret',
      'sh-tok,type=env,target=V',
      IMG,
      'sh',
      '-c',
      `${show('/run/secrets/sh-tok')}; echo "$V"`,
    );
    expect(r.stdout).toBe('from-shell\nfrom-shell\n');
    await sb.runCli(0, 'secret', 'rm', 'sh-tok');
    expect(readdirSync(kept)).toEqual([]);
  });

  it('never mounts onto the host through a target that is a symlink in the image', async () => {
    const victim = join(sb.dir, 'victim');
    mkdirSync(victim);
    chownSync(victim, testIds().uid, testIds().gid);
    const busybox = await makeLayer([
      { path: 'bin/', type: 'directory' },
      { path: 'bin/busybox', content: readFileSync('/bin/busybox'), mode: 0o755 },
      { path: 'bin/sh', type: 'symlink', target: 'busybox' },
    ]);
    const links = await makeLayer([
      { path: 'etc/', type: 'directory' },
      { path: 'etc/abs', type: 'symlink', target: `${victim}/abs` },
      { path: 'etc/rel', type: 'symlink', target: `../../../../../../../..${victim}/rel` },
      { path: 'etc/dir', type: 'symlink', target: victim },
    ]);
    await pushImage(plain, 'skiff/secret-links', 'latest', buildImage([busybox, links]));
    await create('tok', 'contained');
    const r = await sb.runCli(
      0,
      'run',
      '--rm',
      '--secret',
      'tok,target=/etc/abs',
      '--secret',
      'tok,target=/etc/rel',
      '--secret',
      'tok,target=/etc/dir/in',
      `${plain}/skiff/secret-links`,
      'sh',
      '-c',
      [show('/etc/abs'), show('/etc/rel'), show(`${victim}/in`)].join('; '),
    );
    expect(r.stdout).toBe('contained\ncontained\ncontained\n');
    expect(readdirSync(victim)).toEqual([]);
  });
});
