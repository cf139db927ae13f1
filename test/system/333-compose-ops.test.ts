// skiff compose's commands past up/down/ps on real containers: exec (exit codes, -T, terminal),
// run (one-off name and labels, --rm and exit code, dependencies started first), stop/start/restart
// in dependency order, kill -s, rm -f -s and its confirmation, pause/unpause, top, port, images,
// ls over two projects, pull/push with the loopback registry, version.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { useSandbox, writeUserFile } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const sb = useSandbox('compose-ops', { pull: [IMG] });

const LOOP = `sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'`;

const file = (name: string, text: string): string => writeUserFile(sb, name, text);

// ops1: web (published port) depends on db.
let ops1 = '';
beforeAll(() => {
  ops1 = file(
    'ops1.yaml',
    `name: ops1
services:
  web:
    image: \${IMG}
    command: ${LOOP}
    ports: ["18333:80"]
    environment:
      COLOUR: red
    depends_on: [db]
  db:
    image: \${IMG}
    command: ${LOOP}
`,
  );
});

const withImg = (extra: { input?: string; pty?: boolean } = {}) => ({ env: { ...sb.env, IMG }, ...extra });

const compose = (path: string, expected: number | undefined, args: string[], extra: { input?: string; pty?: boolean } = {}) =>
  sb.run(['compose', '-f', path, ...args], withImg(extra)).then((r) => {
    if (expected !== undefined) expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(expected);
    return r;
  });

const states = async (path: string): Promise<Record<string, string>> => {
  const r = await compose(path, 0, ['ps', '-a', '--format', 'json']);
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  return Object.fromEntries(lines.map((l) => JSON.parse(l) as { Name: string; State: string }).map((c) => [c.Name, c.State]));
};

const inspect = async (name: string, format: string) => (await sb.runCli(0, 'inspect', '--format', format, name)).stdout.trim();

afterAll(async () => {
  for (const p of ['ops1.yaml', 'ops2.yaml', 'ops3.yaml']) await sb.run(['compose', '-f', join(sb.dir, p), 'down', '-v', '-t', '0'], withImg());
});

describe('skiff compose ops', () => {
  it('exec: the command’s exit code, its environment, -T, a terminal only when asked; unknown services refused', async () => {
    await compose(ops1, 0, ['up', '-d']);
    const r = await compose(ops1, 3, ['exec', '-T', '-e', 'X=1', '-w', '/tmp', 'web', 'sh', '-c', 'echo $COLOUR $X $PWD; exit 3']);
    expect(r.stdout).toBe('red 1 /tmp\n');
    // No terminal here: none allocated; on one, compose allocates one unless -T.
    expect((await compose(ops1, 0, ['exec', 'web', 'sh', '-c', 'tty; true'])).stdout).toBe('not a tty\n');
    expect((await compose(ops1, 0, ['exec', 'web', 'sh', '-c', 'tty; true'], { pty: true })).stdout).toMatch(/\/dev\/pts\/\d+\r*\n/);
    expect((await compose(ops1, 0, ['exec', '-T', 'web', 'sh', '-c', 'tty; true'], { pty: true })).stdout).toMatch(/^not a tty\r?\n/);
    const unknown = await compose(ops1, 1, ['exec', 'nope', 'sh']);
    expect(unknown.stderr).toMatch(/no such service: nope/);
    expect((await compose(ops1, 1, ['exec', '--index', '2', 'web', 'sh'])).stderr).toMatch(/service "web" is not running container #2/);
    expect((await compose(ops1, 127, ['exec', '-T', 'web', 'nosuchcommand'])).code).toBe(127);
  });

  it('run: a one-off container named and labelled as compose does, without the service’s ports; --rm and its exit code', async () => {
    const rm = await compose(ops1, 7, ['run', '--rm', '-T', 'web', 'sh', '-c', 'echo $COLOUR; exit 7']);
    expect(rm.stdout).toBe('red\n');
    expect((await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}}')).stdout).not.toMatch(/ops1-web-run/);

    const d = await compose(ops1, 0, ['run', '-d', '-l', 'team=blue', '-e', 'Y=2', 'web', 'sh', '-c', 'echo $Y; sleep 30']);
    const id = d.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const name = await inspect(id, '{{.Name}}');
    expect(name).toMatch(/^ops1-web-run-[0-9a-f]{12}$/);
    const labels = JSON.parse(await inspect(id, '{{json .Config.Labels}}'));
    expect(labels).toMatchObject({
      'com.docker.compose.oneoff': 'True',
      'com.docker.compose.project': 'ops1',
      'com.docker.compose.service': 'web',
      team: 'blue',
    });
    expect(labels['com.docker.compose.slug']).toMatch(new RegExp(`^${name.slice(-12)}[0-9a-f]{52}$`));
    expect(await inspect(id, '{{json .HostConfig.PortBindings}}')).toMatch(/^(\{\}|null)$/);
    // One-off containers are not the service's: ps keeps listing web-1 for it, exec goes to web-1.
    expect((await compose(ops1, 0, ['exec', '-T', 'web', 'sh', '-c', 'echo $Y.'])).stdout).toBe('.\n');
    await sb.runCli(0, 'rm', '-f', '-t', '0', id);

    // --service-ports and --publish together: compose's refusal.
    expect((await compose(ops1, 1, ['run', '--service-ports', '-p', '9:9', 'web', 'true'])).stderr).toMatch(/--service-ports and --publish are incompatible/);
    expect((await compose(ops1, 1, ['run', 'nope'])).stderr).toMatch(/no such service: nope/);
  });

  it('run starts the service’s dependencies first, and --no-deps does not', async () => {
    const ops2 = file(
      'ops2.yaml',
      `name: ops2\nservices:\n  app:\n    image: \${IMG}\n    ports: ["18335:80"]\n    depends_on: [cache]\n  cache:\n    image: \${IMG}\n    command: ${LOOP}\n`,
    );
    const nodeps = await compose(ops2, 0, ['run', '--rm', '--no-deps', '-T', 'app', 'sh', '-c', 'exit 0']);
    expect(nodeps.stderr).not.toMatch(/ops2-cache-1/);
    const r = await compose(ops2, 5, ['run', '--rm', '-T', 'app', 'sh', '-c', 'exit 5']);
    expect(r.stderr).toMatch(/Container ops2-cache-1 {2}Started/);
    expect(await states(ops2)).toEqual({ 'ops2-cache-1': 'running' });

    // --service-ports publishes the service's ports, -p others; on a terminal run allocates one.
    const sp = (await compose(ops2, 0, ['run', '-d', '--service-ports', 'app', 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done'])).stdout.trim();
    expect((await compose(ops2, 0, ['port', 'app', '80'])).stdout).toBe('0.0.0.0:18335\n');
    await sb.runCli(0, 'rm', '-f', '-t', '0', sp);
    const p = (await compose(ops2, 0, ['run', '-d', '-p', '18336:80', 'app', 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done'])).stdout.trim();
    expect((await compose(ops2, 0, ['port', 'app', '80'])).stdout).toBe('0.0.0.0:18336\n');
    await sb.runCli(0, 'rm', '-f', '-t', '0', p);
    expect((await compose(ops2, 0, ['run', '--rm', 'app', 'sh', '-c', 'tty; true'], { pty: true })).stdout).toMatch(/\/dev\/pts\/\d+\r*\n/);
    expect((await compose(ops2, 0, ['run', '--rm', '-T', 'app', 'sh', '-c', 'tty; true'], { pty: true })).stdout).toMatch(/not a tty\r?\n/);
  });

  it('stop, start and restart go in dependency order; kill -s sends the signal', async () => {
    const stop = await compose(ops1, 0, ['stop', '-t', '2']);
    expect(stop.stderr.indexOf('ops1-web-1  Stopped')).toBeGreaterThanOrEqual(0);
    expect(stop.stderr.indexOf('ops1-web-1  Stopped')).toBeLessThan(stop.stderr.indexOf('ops1-db-1  Stopped'));
    expect(await states(ops1)).toEqual({ 'ops1-db-1': 'exited', 'ops1-web-1': 'exited' });
    const start = await compose(ops1, 0, ['start']);
    expect(start.stderr.indexOf('ops1-db-1  Started')).toBeGreaterThanOrEqual(0);
    expect(start.stderr.indexOf('ops1-db-1  Started')).toBeLessThan(start.stderr.indexOf('ops1-web-1  Started'));
    expect(await states(ops1)).toEqual({ 'ops1-db-1': 'running', 'ops1-web-1': 'running' });
    const before = await inspect('ops1-web-1', '{{.State.StartedAt}}');
    const restart = await compose(ops1, 0, ['restart', '-t', '2', 'web']);
    expect(restart.stderr).toMatch(/ops1-web-1 {2}Started/);
    expect(restart.stderr).not.toMatch(/ops1-db-1/);
    expect(await inspect('ops1-web-1', '{{.State.StartedAt}}')).not.toBe(before);
    const all = await compose(ops1, 0, ['restart', '-t', '2']);
    expect(all.stderr.indexOf('ops1-db-1  Started')).toBeLessThan(all.stderr.indexOf('ops1-web-1  Started'));

    // web traps TERM and exits 0; db gets the default SIGKILL: 137.
    await compose(ops1, 0, ['kill', '-s', 'SIGTERM', 'web']);
    await sb.runCli(0, 'wait', 'ops1-web-1');
    expect(await inspect('ops1-web-1', '{{.State.ExitCode}}')).toBe('0');
    await compose(ops1, 0, ['kill', 'db']);
    await sb.runCli(0, 'wait', 'ops1-db-1');
    expect(await inspect('ops1-db-1', '{{.State.ExitCode}}')).toBe('137');
    expect((await compose(ops1, 0, ['kill'])).stderr).toBe('No container to kill\n');
    expect((await compose(ops1, 1, ['stop', 'nope'])).stderr).toMatch(/no such service: nope/);
  });

  it('start waits for a dependency to be healthy before it starts the dependant', async () => {
    const path = file(
      'ops4.yaml',
      `name: ops4
services:
  web:
    image: \${IMG}
    command: ${LOOP}
    depends_on:
      db:
        condition: service_healthy
  db:
    image: \${IMG}
    command: ["sh", "-c", "rm -f /tmp/ok; sleep 1; touch /tmp/ok; trap 'exit 0' TERM; while :; do sleep 0.1; done"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /tmp/ok"]
      interval: 1s
      retries: 30
`,
    );
    await compose(path, 0, ['up', '-d']);
    await compose(path, 0, ['stop', '-t', '0']);
    const start = await compose(path, 0, ['start']);
    expect(start.stderr.indexOf('ops4-db-1  Healthy')).toBeGreaterThanOrEqual(0);
    expect(start.stderr.indexOf('ops4-db-1  Healthy')).toBeLessThan(start.stderr.indexOf('ops4-web-1  Started'));
    await compose(path, 0, ['down', '-t', '0']);
  });

  it('pause and unpause reach the engine; top shows each container’s processes; port prints the host address', async () => {
    await compose(ops1, 0, ['start']);
    // Pausing freezes a cgroup: where the test user has none (no systemd session), the engine's
    // refusal comes through and nothing changes (the VM lane runs pause itself).
    const paused = await compose(ops1, 125, ['pause', 'web']);
    expect(paused.stderr).toMatch(/pause freezes the container's cgroup, and ops1-web-1 has none/);
    expect(await states(ops1)).toEqual({ 'ops1-db-1': 'running', 'ops1-web-1': 'running' });
    // Nothing paused: unpause has nothing to do.
    expect((await compose(ops1, 0, ['unpause'])).stderr).toBe('');
    expect((await compose(ops1, 1, ['pause', 'nope'])).stderr).toMatch(/no such service: nope/);

    const top = (await compose(ops1, 0, ['top'])).stdout;
    const blocks = top.split('\n\n').filter(Boolean);
    expect(blocks.map((b) => b.split('\n')[0])).toEqual(['ops1-db-1', 'ops1-web-1']);
    expect(blocks[0].split('\n')[1]).toMatch(/^UID +PID +PPID +C +STIME +TTY +TIME +CMD$/);
    expect(blocks[0].split('\n')[2]).toMatch(/^root +1 +0 +\d+ +\d\d:\d\d +\? +\d\d:\d\d:\d\d +sh -c trap/);
    expect((await compose(ops1, 0, ['top', 'web'])).stdout.split('\n')[0]).toBe('ops1-web-1');

    expect((await compose(ops1, 0, ['port', 'web', '80'])).stdout).toBe('0.0.0.0:18333\n');
    expect((await compose(ops1, 1, ['port', 'web', '81'])).stderr).toMatch(/no port 81\/tcp for container ops1-web-1: 80\/tcp/);
    expect((await compose(ops1, 1, ['port', '--protocol', 'udp', 'web', '80'])).stderr).toMatch(/no port 80\/udp/);
    expect((await compose(ops1, 1, ['port', 'db', '80'])).stderr).toMatch(/no port 80\/tcp for container ops1-db-1/);
  });

  it('images lists each container’s image; ls lists the projects, stopped ones with -a', async () => {
    const id = (await sb.runCli(0, 'image', 'inspect', '--format', '{{.Id}}', IMG)).stdout.trim();
    const images = (await compose(ops1, 0, ['images'])).stdout.split('\n');
    expect(images[0]).toMatch(/^CONTAINER {11}REPOSITORY +TAG +IMAGE ID +SIZE$/);
    expect(images[1]).toMatch(new RegExp(`^ops1-db-1 +${plain}/skiff/busybox +latest +${id.slice(0, 12)} +[\\d.]+[kM]B$`));
    expect(images[2]).toMatch(/^ops1-web-1 /);
    expect((await compose(ops1, 0, ['images', '-q'])).stdout).toBe(`${id}\n`);
    const json = JSON.parse((await compose(ops1, 0, ['images', '--format', 'json'])).stdout);
    expect(json.map((i: { ContainerName: string }) => i.ContainerName)).toEqual(['ops1-db-1', 'ops1-web-1']);
    expect(json[0]).toMatchObject({ ID: `sha256:${id}`, Repository: `${plain}/skiff/busybox`, Tag: 'latest' });

    // ops1 runs two containers; ops2's cache is stopped: listed with -a only.
    const ops2 = join(sb.dir, 'ops2.yaml');
    await compose(ops2, 0, ['stop', '-t', '0']);
    const ls = (await sb.runCli(0, 'compose', 'ls')).stdout.split('\n');
    expect(ls[0]).toBe('NAME                STATUS              CONFIG FILES');
    expect(
      ls
        .slice(1)
        .filter(Boolean)
        .map((l) => l.split(/ {2,}/).slice(0, 2)),
    ).toEqual([['ops1', 'running(2)']]);
    const all = JSON.parse((await sb.runCli(0, 'compose', 'ls', '-a', '--format', 'json')).stdout);
    expect(all.map((p: { Name: string; Status: string }) => [p.Name, p.Status])).toEqual([
      ['ops1', 'running(2)'],
      ['ops2', 'exited(1)'],
    ]);
    // (The files come from the containers' config_files label.)
    expect(all[0].ConfigFiles).toBe(join(sb.dir, 'ops1.yaml'));
    expect((await sb.runCli(0, 'compose', 'ls', '-a', '-q', '--filter', 'name=ops2')).stdout).toBe('ops2\n');
    expect((await sb.run(['compose', 'ls', '--filter', 'status=running'])).code).toBe(1);
  });

  it('rm removes stopped containers: asks first, -f does not, -s stops them first', async () => {
    await compose(ops1, 0, ['stop', '-t', '0', 'web']);
    // No terminal: compose prints the question and reads the answer from standard input.
    const no = await compose(ops1, 0, ['rm'], { input: '' });
    expect(no.stdout).toBe('Going to remove ops1-web-1');
    expect(Object.keys(await states(ops1))).toEqual(['ops1-db-1', 'ops1-web-1']);
    const yes = await compose(ops1, 0, ['rm'], { input: 'y\n' });
    expect(yes.stderr).toMatch(/Container ops1-web-1 {2}Removed/);
    expect(Object.keys(await states(ops1))).toEqual(['ops1-db-1']);
    // db runs: rm -f leaves it; rm -f -s stops it and removes it.
    expect((await compose(ops1, 0, ['rm', '-f'])).stderr).toBe('No stopped containers\n');
    const forced = await compose(ops1, 0, ['rm', '-f', '-s', '-v']);
    expect(forced.stdout).toBe('Going to remove ops1-db-1\n');
    expect(await states(ops1)).toEqual({});
  });

  it('pull pulls the services’ images (failures ignored when asked); push skips services that build nothing', async () => {
    await sb.runCli(0, 'push', IMG, `${plain}/cops/busybox:v1`);
    const ops3 = file(
      'ops3.yaml',
      `name: ops3\nservices:\n  app:\n    image: ${plain}/cops/busybox:v1\n  broken:\n    image: ${plain}/cops/missing:v1\n  job:\n    image: ${plain}/cops/busybox:v1\n    command: sh -c 'sleep 1; exit 4'\n`,
    );
    expect((await sb.run(['image', 'exists', `${plain}/cops/busybox:v1`])).code).toBe(1);
    const pulled = await compose(ops3, 0, ['pull', 'app']);
    expect(pulled.stderr).toMatch(/✔ app Pulled/);
    await sb.runCli(0, 'image', 'exists', `${plain}/cops/busybox:v1`);
    expect((await compose(ops3, undefined, ['pull'])).code).not.toBe(0);
    const ignored = await compose(ops3, 0, ['pull', '--ignore-pull-failures']);
    expect(ignored.stderr).toMatch(/app Pulled/);
    expect(ignored.stderr).toMatch(/broken Error/);
    expect((await compose(ops3, 0, ['pull', '-q', 'app'])).stderr).toBe('');
    const push = await compose(ops3, 0, ['push', 'app']);
    expect(push.stderr).toMatch(/app Skipped/);
    // A service that builds its image: build, push, and the registry has it.
    file('pushctx/Dockerfile', `FROM ${IMG}\nRUN echo pushed > /mark\n`);
    const built = file('ops5.yaml', `name: ops5\nservices:\n  app:\n    build: ./pushctx\n    image: ${plain}/cops/built:v1\n`);
    await compose(built, 0, ['build']);
    expect((await compose(built, 0, ['push'])).stderr).toMatch(/cops\/built:v1 Pushed/);
    await sb.runCli(0, 'rmi', `${plain}/cops/built:v1`);
    await sb.runCli(0, 'pull', '-q', `${plain}/cops/built:v1`);
    expect((await sb.runCli(0, 'run', '--rm', `${plain}/cops/built:v1`, 'sh', '-c', 'read l < /mark; echo $l')).stdout).toBe('pushed\n');

    // create makes the containers without starting them; wait gives the last exit code.
    const created = await compose(ops3, 0, ['create', 'app', 'job']);
    expect(created.stderr).toMatch(/Network ops3_default {2}Created/);
    expect(created.stderr).toMatch(/Container ops3-job-1 {2}Created/);
    expect(await states(ops3)).toEqual({ 'ops3-app-1': 'created', 'ops3-job-1': 'created' });
    expect((await compose(ops3, 1, ['wait', 'job'])).stderr).toMatch(/no containers for project "ops3"/);
    await compose(ops3, 0, ['start', 'job']);
    const waited = await compose(ops3, 4, ['wait', 'job']);
    const id = await inspect('ops3-job-1', '{{.Id}}');
    expect(waited.stdout).toBe(`container "${id}" exited with status code 4\n`);
  });

  it('version names skiff compose', async () => {
    const { stdout } = await sb.runCli(0, 'compose', 'version');
    expect(stdout).toMatch(/^skiff compose version v\d+\.\d+\.\d+\n$/);
    const short = (await sb.runCli(0, 'compose', 'version', '--short')).stdout;
    expect(`skiff compose version v${short}`).toBe(stdout);
    expect(JSON.parse((await sb.runCli(0, 'compose', 'version', '--format', 'json')).stdout)).toEqual({ version: `v${short.trim()}` });
  });
});
