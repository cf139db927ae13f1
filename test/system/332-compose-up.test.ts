// skiff compose's lifecycle on real containers: a foreground up streaming prefixed output and stopped
// by SIGINT (a second one kills), --abort-on-container-exit / -failure / --exit-code-from, --attach
// and --no-attach, a restart policy followed, --wait, --scale up and down, --no-start, --no-deps,
// --force-recreate / --no-recreate / --pull always, orphans, failing services reported with their
// exit code and output (and `down` leaving nothing after them), logs --tail / -f, ps filters and
// JSON, build + up --build (a changed Dockerfile recreates) + down --rmi local.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { until, useSandbox, writeUserFile } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const sb = useSandbox('compose-up', { pull: [IMG] });

const file = (name: string, text: string): string => writeUserFile(sb, name, text);

const env = { env: { ...sb.env, IMG } };
// A service that prints a line and then waits to be stopped.
const LOOP = (text: string) => `["sh", "-c", "echo ${text}; trap 'exit 0' TERM; while :; do sleep 0.1; done"]`;

const compose = (path: string) => ({
  run: (expected: number, ...args: string[]) =>
    sb.run(['compose', '-f', path, ...args], env).then((r) => {
      expect(r.code, `compose ${args.join(' ')}: ${r.stderr}`).toBe(expected);
      return r;
    }),
  ps: async (...args: string[]) => {
    const r = await sb.run(['compose', '-f', path, 'ps', '-a', '--format', 'json', ...args], env);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { ID: string; Name: string; Service: string; State: string; ExitCode: number; Health: string; Command: string });
  },
});

const files: string[] = [];
afterAll(async () => {
  for (const f of files) await sb.run(['compose', '-f', f, 'down', '-v', '-t', '0', '--remove-orphans'], env);
});
const project = (name: string, text: string) => {
  const path = file(`${name}/compose.yaml`, `name: ${name}\n${text}`);
  files.push(path);
  return { path, ...compose(path) };
};

describe('skiff compose up', () => {
  it('in the foreground: prefixed output of every service, SIGINT stops the project', async () => {
    const p = project(
      'fg',
      `services:\n  web:\n    image: \${IMG}\n    command: ${LOOP('hello from web')}\n    depends_on: [db]\n  db:\n    image: \${IMG}\n    command: ${LOOP('hello from db')}\n`,
    );
    const child = sb.spawn(['compose', '-f', p.path, 'up'], env);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    await until(() => out.includes('web-1  | hello from web') && out.includes('db-1   | hello from db'), 30_000).catch(() => {
      throw new Error(`no prefixed output: ${out} ${err}`);
    });
    expect(out).toMatch(/^Attaching to db-1, web-1$/m);
    expect(out).not.toMatch(/\x1b\[/);
    child.kill('SIGINT');
    // (Stopped by Ctrl-C: exit code 0, as docker compose.)
    expect(await closed, err).toBe(0);
    expect(err).toMatch(/Gracefully stopping\.\.\./);
    expect(err).toMatch(/Container fg-web-1 {2}Stopped/);
    // web depends on db: it stops first.
    expect(err.indexOf('fg-web-1  Stopped')).toBeLessThan(err.indexOf('fg-db-1  Stopped'));
    expect(out).toMatch(/^web-1 exited with code 0$/m);
    expect((await p.ps()).map((c) => [c.Name, c.State])).toEqual([
      ['fg-db-1', 'exited'],
      ['fg-web-1', 'exited'],
    ]);
    await p.run(0, 'down');

    // A container that ignores SIGTERM: the second Ctrl-C kills it.
    const k = project(
      'stubborn',
      `services:\n  mule:\n    image: \${IMG}\n    command: ["sh", "-c", "trap '' TERM; echo stubborn; while :; do sleep 0.1; done"]\n`,
    );
    const second = sb.spawn(['compose', '-f', k.path, 'up'], env);
    let said = '';
    second.stdout!.on('data', (d) => (said += d));
    second.stderr!.on('data', (d) => (said += d));
    const ended = new Promise<number | null>((r) => second.on('close', (code) => r(code)));
    await until(() => said.includes('mule-1  | stubborn'), 30_000);
    const begin = Date.now();
    second.kill('SIGINT');
    await until(() => said.includes('Gracefully stopping'), 10_000);
    await new Promise((r) => setTimeout(r, 500));
    second.kill('SIGINT');
    expect(await ended, said).toBe(0);
    expect(said).toMatch(/Killing\.\.\./);
    expect(Date.now() - begin).toBeLessThan(8000);
    expect((await k.ps()).map((c) => c.State)).toEqual(['exited']);
    await k.run(0, 'down');
  });

  it('exits when every container has exited; --abort-on-container-exit and --exit-code-from give the exit code', async () => {
    const p = project(
      'ab',
      `services:\n  job:\n    image: \${IMG}\n    command: ["sh", "-c", "sleep 0.5; echo job done; exit \${CODE:-3}"]\n  srv:\n    image: \${IMG}\n    command: ${LOOP('serving')}\n  once:\n    image: \${IMG}\n    command: ["sh", "-c", "echo once"]\n`,
    );
    const abort = await p.run(3, 'up', '--abort-on-container-exit', '--no-log-prefix', 'job', 'srv');
    expect(abort.stdout).toMatch(/^job done$/m);
    expect(abort.stderr).toMatch(/Aborting on container exit/);
    expect((await p.ps()).every((c) => c.State === 'exited')).toBe(true);
    // --abort-on-container-failure: once exiting 0 at once does not stop the rest (job finishes); job's 3 does.
    const fail = await p.run(3, 'up', '--abort-on-container-failure', 'once', 'job', 'srv');
    expect(fail.stdout).toMatch(/^job-1 +\| job done$/m);
    const from = await sb.run(['compose', '-f', p.path, 'up', '--exit-code-from', 'job', 'job', 'srv'], { env: { ...env.env, CODE: '5' } });
    expect(from.code, from.stderr).toBe(5);
    // Only the attached service's output.
    const once = await p.run(0, 'up', '--attach', 'once', 'once');
    expect(once.stdout).toMatch(/^once-1 {2}\| once$/m);
    expect(once.stdout).not.toMatch(/serving/);
    const noAttach = await p.run(0, 'up', '--no-attach', 'job', 'once', 'job');
    expect(noAttach.stdout).toMatch(/^once-1 +\| once$/m);
    expect(noAttach.stdout).not.toMatch(/job done/);
    // A restart policy brings a container back: its next runs are shown too, until the policy gives up.
    const r = project('rs', `services:\n  flaky:\n    image: \${IMG}\n    command: ["sh", "-c", "echo try; exit 2"]\n    restart: on-failure:2\n`);
    const tries = await r.run(0, 'up');
    expect(tries.stdout.match(/^flaky-1 +\| try$/gm), tries.stdout).toHaveLength(3);
    expect(tries.stdout).toMatch(/flaky-1 exited with code 2\n$/);
    await r.run(0, 'down');
    // On a terminal each container's prefix has its colour; --timestamps puts the time after it.
    const tty = await sb.run(['compose', '-f', p.path, 'up', 'once'], { ...env, pty: true });
    expect(tty.stdout).toContain('\x1b[36monce-1  | \x1b[0monce');
    const stamped = await p.run(0, 'up', '--timestamps', 'once');
    expect(stamped.stdout).toMatch(/^once-1 {2}\| \d{4}-\d\d-\d\dT[0-9:.]+Z once$/m);
    await p.run(0, 'down');
  });

  it('--wait returns once the services are healthy; --scale up and down', async () => {
    const p = project(
      'sc',
      `services:\n  web:\n    image: \${IMG}\n    command: ["sh", "-c", "sleep 1; touch /tmp/ok; trap 'exit 0' TERM; while :; do sleep 0.1; done"]\n    healthcheck:\n      test: ["CMD-SHELL", "test -f /tmp/ok"]\n      interval: 1s\n`,
    );
    await p.run(0, 'up', '--wait', '--wait-timeout', '30', '--scale', 'web=3');
    expect((await p.ps()).map((c) => [c.Name, c.State, c.Health])).toEqual([
      ['sc-web-1', 'running', 'healthy'],
      ['sc-web-2', 'running', 'healthy'],
      ['sc-web-3', 'running', 'healthy'],
    ]);
    const scaledDown = await p.run(0, 'up', '-d', '--scale', 'web=1', '-t', '1');
    expect(scaledDown.stderr).toMatch(/Container sc-web-3 {2}Removed/);
    expect((await p.ps()).map((c) => c.Name)).toEqual(['sc-web-1']);
    await p.run(0, 'down', '-t', '1');

    // --no-start creates only; --no-deps starts the named service without what it depends on.
    const d = project(
      'nd',
      `services:\n  web:\n    image: \${IMG}\n    command: ${LOOP('web')}\n    depends_on: [db]\n  db:\n    image: \${IMG}\n    command: ${LOOP('db')}\n`,
    );
    await d.run(0, 'up', '--no-start');
    expect((await d.ps()).map((c) => [c.Name, c.State])).toEqual([
      ['nd-db-1', 'created'],
      ['nd-web-1', 'created'],
    ]);
    await d.run(0, 'down');
    await d.run(0, 'up', '-d', '--no-deps', 'web');
    expect((await d.ps()).map((c) => [c.Name, c.State])).toEqual([['nd-web-1', 'running']]);
    await d.run(0, 'down', '-t', '1');
  });

  it('--force-recreate, --no-recreate and orphans', async () => {
    const two = (colour: string) =>
      `services:\n  a:\n    image: \${IMG}\n    command: ${LOOP('a')}\n    environment: {C: ${colour}}\n  b:\n    image: \${IMG}\n    command: ${LOOP('b')}\n`;
    const p = project('rc', two('red'));
    await p.run(0, 'up', '-d');
    const first = await p.ps();
    const forced = await p.run(0, 'up', '-d', '--force-recreate', '-t', '1');
    expect(forced.stderr).toMatch(/Container rc-a-1 {2}Recreated/);
    const second = await p.ps();
    expect(second[0].ID).not.toBe(first[0].ID);
    file('rc/compose.yaml', `name: rc\n${two('blue')}`);
    const kept = await p.run(0, 'up', '-d', '--no-recreate');
    expect(kept.stderr).toMatch(/Container rc-a-1 {2}Running/);
    expect((await p.ps()).map((c) => c.ID)).toEqual(second.map((c) => c.ID));
    // --pull always looks again; the same image keeps the containers.
    file('rc/compose.yaml', `name: rc\n${two('red')}`);
    const pulled = await p.run(0, 'up', '-d', '--pull', 'always');
    expect(pulled.stderr).toMatch(/Image .*skiff\/busybox {2}Pulled/);
    expect(pulled.stderr).toMatch(/Container rc-b-1 {2}Running/);
    // b leaves the file: a warning, then --remove-orphans removes it.
    file('rc/compose.yaml', `name: rc\nservices:\n  a:\n    image: \${IMG}\n    command: ${LOOP('a')}\n    environment: {C: blue}\n`);
    const warned = await p.run(0, 'up', '-d');
    expect(warned.stderr).toMatch(/Found orphan containers \(\[rc-b-1\]\) for this project/);
    expect((await p.ps()).map((c) => c.Name)).toEqual(['rc-a-1', 'rc-b-1']);
    const removed = await p.run(0, 'up', '-d', '--remove-orphans', '-t', '1');
    expect(removed.stderr).toMatch(/Container rc-b-1 {2}Removed/);
    expect((await p.ps()).map((c) => c.Name)).toEqual(['rc-a-1']);
    await p.run(0, 'down', '-t', '1');
  });

  it('a failing service stops up with its name, exit code and output; down leaves nothing', async () => {
    const p = project(
      'fail',
      `services:\n  migrate:\n    image: \${IMG}\n    command: ["sh", "-c", "echo step one; echo boom >&2; exit 7"]\n  web:\n    image: \${IMG}\n    command: ${LOOP('web')}\n    depends_on:\n      migrate:\n        condition: service_completed_successfully\n`,
    );
    const r = await sb.run(['compose', '-f', p.path, 'up', '-d'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/service "migrate" didn't complete successfully: container fail-migrate-1 exited with code 7/);
    expect(r.stderr).toMatch(/migrate {2}\| boom/);
    expect(r.stderr).toMatch(/migrate {2}\| step one/);
    expect((await p.ps()).map((c) => c.Name)).toEqual(['fail-migrate-1']);
    await p.run(0, 'down');
    expect(await p.ps()).toEqual([]);
    expect((await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}}')).stdout).not.toMatch(/fail-/);
    expect((await sb.run(['network', 'exists', 'fail_default'])).code).toBe(1);

    // A service that exits while a dependant waits for it to be healthy.
    const h = project(
      'unhealthy',
      `services:\n  db:\n    image: \${IMG}\n    command: ["sh", "-c", "echo db giving up; exit 4"]\n    healthcheck:\n      test: ["CMD-SHELL", "true"]\n      interval: 1s\n  web:\n    image: \${IMG}\n    command: ${LOOP('web')}\n    depends_on:\n      db:\n        condition: service_healthy\n`,
    );
    const u = await sb.run(['compose', '-f', h.path, 'up', '-d'], env);
    expect(u.code).not.toBe(0);
    expect(u.stderr).toMatch(/service "db" exited before it was healthy: container unhealthy-db-1 exited with code 4/);
    expect(u.stderr).toMatch(/db {2}\| db giving up/);
    await h.run(0, 'down');
    expect(await h.ps()).toEqual([]);

    // One whose container cannot be created (no such image): named, and down cleans up after it.
    const m = project('missing', `services:\n  ghost:\n    image: \${IMG}-nothere\n  web:\n    image: \${IMG}\n    command: ${LOOP('web')}\n`);
    const g = await sb.run(['compose', '-f', m.path, 'up', '-d'], env);
    expect(g.code).not.toBe(0);
    expect(g.stderr).toMatch(/Error: service "ghost": .*nothere/);
    await m.run(0, 'down', '-t', '1');
    expect(await m.ps()).toEqual([]);
    expect((await sb.run(['network', 'exists', 'missing_default'])).code).toBe(1);
  });

  it('logs --tail, -f, --no-log-prefix; ps --status and --services', async () => {
    const p = project(
      'lg',
      `services:\n  count:\n    image: \${IMG}\n    command: ["sh", "-c", "for i in 1 2 3 4 5; do echo line $$i; done; trap 'exit 0' TERM; while :; do sleep 0.1; done"]\n  quiet:\n    image: \${IMG}\n    command: ["sh", "-c", "exit 0"]\n`,
    );
    await p.run(0, 'up', '-d');
    await until(async () => (await p.run(0, 'logs', 'count')).stdout.includes('line 5'), 20_000);
    expect((await p.run(0, 'logs', '--tail', '2', 'count')).stdout).toBe('count-1  | line 4\ncount-1  | line 5\n');
    expect((await p.run(0, 'logs', '--no-log-prefix', '-n', '1', 'count')).stdout).toBe('line 5\n');
    expect((await p.run(0, 'ps', '--status', 'exited', '--services')).stdout).toBe('quiet\n');
    expect((await p.run(0, 'ps', '--filter', 'status=running', '-q')).stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    // docker compose's JSON: the id and command shortened unless --no-trunc, its Go time.
    const [short] = await p.ps('count');
    expect(short).toMatchObject({ Service: 'count', State: 'running', Command: '"sh -c for i in 1 2 …"' });
    expect(short.ID).toMatch(/^[0-9a-f]{12}$/);
    expect((short as unknown as { CreatedAt: string }).CreatedAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);
    expect((await p.ps('--no-trunc', 'count'))[0].ID).toMatch(/^[0-9a-f]{64}$/);
    const follow = sb.spawn(['compose', '-f', p.path, 'logs', '-f', '--tail', '1', 'count'], env);
    let out = '';
    follow.stdout!.on('data', (d) => (out += d));
    const closed = new Promise<number | null>((r) => follow.on('close', (code) => r(code)));
    await until(() => out.includes('line 5'), 20_000);
    await sb.runCli(0, 'stop', '-t', '1', 'lg-count-1');
    expect(await closed).toBe(0);
    expect(out).toBe('count-1  | line 5\n');
    await p.run(0, 'down');
  });

  // (Needs the model's parsing of build:, which lands with the compose model's work.)
  it('build, then up --build, of a service with a Dockerfile', async () => {
    file(
      'bd/app/Dockerfile',
      `FROM ${IMG}\nARG WORD=plain\nRUN echo "built $WORD" > /built\nCMD ["sh", "-c", "cat /built; trap 'exit 0' TERM; while :; do sleep 0.1; done"]\n`,
    );
    const p = project('bd', 'services:\n  app:\n    build:\n      context: ./app\n      args:\n        WORD: fancy\n');
    const b = await p.run(0, 'build');
    expect(b.stderr).toMatch(/Service app {2}Built/);
    await sb.runCli(0, 'image', 'exists', 'bd-app');
    await p.run(0, 'up', '-d');
    await until(async () => (await p.run(0, 'logs', 'app')).stdout.includes('built fancy'), 20_000);
    const rebuilt = await p.run(0, 'up', '-d', '--build');
    expect(rebuilt.stderr).toMatch(/Image bd-app {2}Built/);
    expect(rebuilt.stderr).toMatch(/Container bd-app-1 {2}Running/);
    // A changed Dockerfile: up --build makes a new image, and the container is recreated on it.
    file(
      'bd/app/Dockerfile',
      `FROM ${IMG}\nARG WORD=plain\nRUN echo "rebuilt $WORD" > /built\nCMD ["sh", "-c", "cat /built; trap 'exit 0' TERM; while :; do sleep 0.1; done"]\n`,
    );
    const changed = await p.run(0, 'up', '-d', '--build', '-t', '1');
    expect(changed.stderr).toMatch(/Container bd-app-1 {2}Recreated/);
    await until(async () => (await p.run(0, 'logs', 'app')).stdout.includes('rebuilt fancy'), 20_000);
    await p.run(0, 'down', '--rmi', 'local');
    expect((await sb.run(['image', 'exists', 'bd-app'])).code).toBe(1);
    // --no-build with the image gone: refused, nothing left behind.
    const r = await sb.run(['compose', '-f', p.path, 'up', '-d', '--no-build'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/image bd-app not found and --no-build was given/);
    await p.run(0, 'down');
  });
});
