// Issue 27's project, end to end on real containers: a web server built from a Dockerfile with a
// published port, a "database" keeping data in a named volume with a healthcheck, a one-shot
// migration job the web service waits for (service_completed_successfully), and a scaled worker.
// up -d in dependency order, scale up and down, a changed service recreated alone, down keeping the
// volume and the next up finding its data, down -v leaving nothing; a failing job stops `up` with
// its name, exit code and last log lines, and `down` cleans what it left.
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { useSandbox, writeUserFile } from '../helpers/cli.js';
import { fetchTcp } from '../helpers/net.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const sb = useSandbox('compose-app', { pull: [IMG] });
const PORT = 18334;

const file = (name: string, text: string): string => writeUserFile(sb, name, text);

const LOOP = `trap 'exit 0' TERM; while :; do sleep 0.2; done`;
const app = (workerCommand: string) => `
name: capp
services:
  web:
    build: ./web
    ports: ["${PORT}:80"]
    depends_on:
      db:
        condition: service_healthy
      migrate:
        condition: service_completed_successfully
  db:
    image: ${IMG}
    command: ["sh", "-c", "echo started >> /data/log; ${LOOP}"]
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /data/log"]
      interval: 1s
      retries: 30
  migrate:
    image: ${IMG}
    command: ["sh", "-c", "echo migrated >> /data/migrations"]
    volumes: ["data:/data"]
    depends_on:
      db:
        condition: service_healthy
  worker:
    image: ${IMG}
    command: ["sh", "-c", "${workerCommand}; ${LOOP}"]
    deploy:
      replicas: 2
volumes:
  data:
`;

interface PsLine {
  ID: string;
  Name: string;
  Service: string;
  State: string;
  ExitCode: number;
}

const compose = (path: string, ...args: string[]) => sb.run(['compose', '-f', path, ...args]);
const ok = async (path: string, ...args: string[]) => {
  const r = await compose(path, ...args);
  expect(r.code, `compose ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
};
const ps = async (path: string): Promise<PsLine[]> =>
  (await ok(path, 'ps', '-a', '--format', 'json')).stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PsLine)
    .sort((a, b) => a.Name.localeCompare(b.Name));
const countLines = async (ctr: string, path: string) =>
  (await sb.runCli(0, 'exec', ctr, 'sh', '-c', `n=0; while read l; do n=$((n+1)); done < ${path}; echo $n`)).stdout.trim();

afterAll(async () => {
  for (const f of ['compose.yaml', 'fail.yaml']) await compose(join(sb.dir, f), 'down', '-v', '-t', '0');
});

describe('compose: a web app, its database, a migration job and workers', () => {
  it('up -d in order, scale, recreate one service, down keeps data, down -v leaves nothing', async () => {
    file('web/Dockerfile', `FROM ${IMG}\nRUN echo hello-from-build > /greeting\nCMD ["sh", "-c", "while true; do cat /greeting | nc -l -p 80; done"]\n`);
    const path = file('compose.yaml', app('echo v1'));

    const up = await ok(path, 'up', '-d');
    // The job ran after db was healthy, and web was created after the job completed.
    const at = (s: string) => up.stderr.indexOf(s);
    expect(at('capp-db-1  Healthy')).toBeGreaterThan(-1);
    expect(at('capp-db-1  Healthy')).toBeLessThan(at('capp-migrate-1  Created'));
    expect(at('capp-migrate-1  Exited')).toBeLessThan(at('capp-web-1  Created'));
    const first = await ps(path);
    expect(first.map((c) => [c.Name, c.State])).toEqual([
      ['capp-db-1', 'running'],
      ['capp-migrate-1', 'exited'],
      ['capp-web-1', 'running'],
      ['capp-worker-1', 'running'],
      ['capp-worker-2', 'running'],
    ]);
    expect(first.find((c) => c.Name === 'capp-migrate-1')?.ExitCode).toBe(0);
    // The built image serves on the published port; services reach each other by name.
    expect((await fetchTcp(PORT)).trim()).toBe('hello-from-build');
    // (busybox's nslookup: its nc's glibc lookup fails in a static build.)
    const byName = 'for w in $(nslookup web 2>/dev/null); do case $w in 10.*) ip=$w;; esac; done; nc $ip 80 </dev/null';
    expect((await sb.runCli(0, 'exec', 'capp-worker-1', 'sh', '-c', byName)).stdout.trim()).toBe('hello-from-build');

    // Scale the workers up and down: numbers 1..N, the highest go first.
    await ok(path, 'up', '-d', '--scale', 'worker=3');
    expect((await ps(path)).filter((c) => c.Service === 'worker').map((c) => c.Name)).toEqual(['capp-worker-1', 'capp-worker-2', 'capp-worker-3']);
    await ok(path, 'up', '-d', '--scale', 'worker=1');
    expect((await ps(path)).filter((c) => c.Service === 'worker').map((c) => c.Name)).toEqual(['capp-worker-1']);

    // The worker's configuration changes: the worker alone is recreated.
    const before = await ps(path);
    file('compose.yaml', app('echo v2'));
    await ok(path, 'up', '-d');
    const after = await ps(path);
    const id = (list: PsLine[], name: string) => list.find((c) => c.Name === name)?.ID;
    expect(id(after, 'capp-db-1')).toBe(id(before, 'capp-db-1'));
    expect(id(after, 'capp-web-1')).toBe(id(before, 'capp-web-1'));
    expect(id(after, 'capp-worker-1')).not.toBe(id(before, 'capp-worker-1'));
    expect(after.filter((c) => c.Service === 'worker')).toHaveLength(2); // deploy.replicas again

    // down keeps the named volume: the next up finds the data (and the job runs again).
    await ok(path, 'down', '-t', '1');
    expect(await ps(path)).toEqual([]);
    await sb.runCli(0, 'volume', 'exists', 'capp_data');
    await ok(path, 'up', '-d');
    expect(await countLines('capp-db-1', '/data/log')).toBe('2');
    // (docker compose v2 starts a completed job again on every `up`: five so far.)
    expect(await countLines('capp-db-1', '/data/migrations')).toBe('5');

    // down -v: no container, network, volume or process of the project.
    const ids = (await ps(path)).map((c) => c.ID);
    await ok(path, 'down', '-v', '-t', '1');
    expect(await ps(path)).toEqual([]);
    expect((await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}}')).stdout).not.toMatch(/capp/);
    expect((await sb.run(['network', 'exists', 'capp_default'])).code).toBe(1);
    expect((await sb.run(['volume', 'exists', 'capp_data'])).code).toBe(1);
    const { execFileSync } = await import('node:child_process');
    const procs = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    for (const i of ids) expect(procs).not.toContain(i);
  });

  it('a job that fails stops up with its name, exit code and last log lines; down cleans up', async () => {
    const path = file(
      'fail.yaml',
      `name: cfail
services:
  job:
    image: ${IMG}
    command: ["sh", "-c", "echo step one; echo disk on fire >&2; exit 3"]
  app:
    image: ${IMG}
    command: ["sh", "-c", "${LOOP}"]
    depends_on:
      job:
        condition: service_completed_successfully
`,
    );
    const r = await compose(path, 'up', '-d');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/job/);
    expect(r.stderr).toMatch(/\b3\b/);
    expect(r.stderr).toMatch(/disk on fire/);
    // app never started.
    expect((await ps(path)).map((c) => c.Name)).not.toContain('cfail-app-1');
    await ok(path, 'down', '-v');
    expect(await ps(path)).toEqual([]);
    expect((await sb.run(['network', 'exists', 'cfail_default'])).code).toBe(1);
  });
});
