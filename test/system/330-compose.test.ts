// skiff compose on real containers: a two-service project (a web service with a published port that
// waits for a healthy db keeping data in a named volume), up -d / ps / up -d unchanged / one service
// changed and recreated alone / down keeping the volume / down -v leaving nothing; config output and
// invalid files with their path and line.
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { useSandbox, writeUserFile } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const sb = useSandbox('compose', { pull: [IMG] });

const file = (name: string, text: string): string => writeUserFile(sb, name, text);

const project = (webEnv: string) => `
name: cproj
services:
  web:
    image: \${IMG}
    command: sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
    ports: ["18330:80"]
    environment:
      COLOUR: ${webEnv}
    depends_on:
      db:
        condition: service_healthy
  db:
    image: \${IMG}
    command: ["sh", "-c", "echo up >> /data/log; trap 'exit 0' TERM; while :; do sleep 0.1; done"]
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /data/log"]
      interval: 1s
      retries: 30
volumes:
  data:
`;

const withImg = () => ({ env: { ...sb.env, IMG } });

interface PsLine {
  ID: string;
  Name: string;
  Service: string;
  State: string;
  Publishers: { URL: string; TargetPort: number; PublishedPort: number; Protocol: string }[];
}

const ps = async (path: string): Promise<PsLine[]> => {
  const r = await sb.run(['compose', '-f', path, 'ps', '-a', '--format', 'json'], withImg());
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PsLine);
};

afterAll(async () => {
  await sb.run(['compose', '-f', join(sb.dir, 'compose.yaml'), 'down', '-v'], withImg());
});

describe('skiff compose', () => {
  it('up -d, ps, up -d unchanged, one service recreated, down keeps volumes, down -v leaves nothing', async () => {
    const path = file('compose.yaml', project('red'));
    const run = (expected: number, ...args: string[]) =>
      sb.run(['compose', '-f', path, ...args], withImg()).then((r) => {
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(expected);
        return r;
      });
    const up = await run(0, 'up', '-d');
    expect(up.stderr).toMatch(/Network cproj_default {2}Created/);
    expect(up.stderr).toMatch(/Volume cproj_data {2}Created/);
    expect(up.stderr).toMatch(/Container cproj-db-1 {2}Healthy/);
    // db became healthy before web was created.
    expect(up.stderr.indexOf('cproj-db-1  Healthy')).toBeLessThan(up.stderr.indexOf('cproj-web-1  Created'));

    const first = await ps(path);
    expect(first.map((c) => [c.Name, c.Service, c.State])).toEqual([
      ['cproj-db-1', 'db', 'running'],
      ['cproj-web-1', 'web', 'running'],
    ]);
    expect(first[1].Publishers).toEqual([{ URL: '0.0.0.0', TargetPort: 80, PublishedPort: 18330, Protocol: 'tcp' }]);
    const labels = JSON.parse((await sb.runCli(0, 'inspect', '--format', '{{json .Config.Labels}}', 'cproj-web-1')).stdout);
    expect(labels).toMatchObject({ 'com.docker.compose.project': 'cproj', 'com.docker.compose.service': 'web', 'com.docker.compose.container-number': '1' });
    expect(labels['com.docker.compose.config-hash']).toMatch(/^[0-9a-f]{64}$/);
    expect((await sb.runCli(0, 'exec', 'cproj-web-1', 'sh', '-c', 'echo $COLOUR')).stdout).toBe('red\n');

    // Nothing changed: nothing recreated.
    const again = await run(0, 'up', '-d');
    expect(again.stderr).toMatch(/Container cproj-web-1 {2}Running/);
    expect((await ps(path)).map((c) => c.ID)).toEqual(first.map((c) => c.ID));

    // web changed: web alone recreated.
    file('compose.yaml', project('blue'));
    const changed = await run(0, 'up', '-d');
    expect(changed.stderr).toMatch(/Container cproj-web-1 {2}Recreated/);
    const second = await ps(path);
    expect(second[0].ID).toBe(first[0].ID);
    expect(second[1].ID).not.toBe(first[1].ID);
    expect((await sb.runCli(0, 'exec', 'cproj-web-1', 'sh', '-c', 'echo $COLOUR')).stdout).toBe('blue\n');

    // down keeps the named volume: the next up finds the data.
    await run(0, 'down', '-t', '1');
    expect(await ps(path)).toEqual([]);
    expect((await sb.run(['network', 'exists', 'cproj_default'])).code).toBe(1);
    await sb.runCli(0, 'volume', 'exists', 'cproj_data');
    await run(0, 'up', '-d');
    const lines = await sb.runCli(0, 'exec', 'cproj-db-1', 'sh', '-c', 'n=0; while read l; do n=$((n+1)); done < /data/log; echo $n');
    expect(lines.stdout).toBe('2\n');

    // down -v: no container, network or volume of the project.
    await run(0, 'down', '-v', '-t', '1');
    expect(await ps(path)).toEqual([]);
    expect((await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}}')).stdout).not.toMatch(/cproj/);
    expect((await sb.run(['network', 'exists', 'cproj_default'])).code).toBe(1);
    expect((await sb.run(['volume', 'exists', 'cproj_data'])).code).toBe(1);
  });

  it('config prints the resolved model as docker compose does', async () => {
    const path = file(
      'config.yaml',
      'services:\n  b:\n    image: ${IMG}\n    ports: ["8080:80"]\n    volumes: ["data:/data"]\n  a:\n    image: x\n    environment: [Z=1, A=2]\nvolumes:\n  data:\n',
    );
    const r = await sb.run(['compose', '-f', path, '-p', 'demo', 'config'], { env: { ...sb.env, IMG: 'img' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        'name: demo',
        'services:',
        '  a:',
        '    environment:',
        '      A: "2"',
        '      Z: "1"',
        '    image: x',
        '    networks:',
        '      default: null',
        '  b:',
        '    image: img',
        '    networks:',
        '      default: null',
        '    ports:',
        '      - mode: ingress',
        '        target: 80',
        '        published: "8080"',
        '        protocol: tcp',
        '    volumes:',
        '      - type: volume',
        '        source: data',
        '        target: /data',
        '        volume: {}',
        'networks:',
        '  default:',
        '    name: demo_default',
        'volumes:',
        '  data:',
        '    name: demo_data',
        '',
      ].join('\n'),
    );
    const j = await sb.run(['compose', '-f', path, '-p', 'demo', 'config', '--format', 'json'], { env: { ...sb.env, IMG: 'img' } });
    expect(j.code, j.stderr).toBe(0);
    const json = JSON.parse(j.stdout);
    expect(json.services.b.ports).toEqual([{ mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' }]);
  });

  it('refuses invalid files before running anything, with the path and line', async () => {
    const path = file('bad.yaml', `services:\n  web:\n    image: ${IMG}\n    ports:\n      - "80:80"\n      - {published: 8080}\n`);
    const r = await sb.run(['compose', '-f', path, 'up', '-d']);
    expect(r.code).toBe(125);
    expect(r.stderr.trim()).toBe(`Error: ${path}:6: services.web.ports[1] needs "target"`);
    const priv = file('priv.yaml', `services:\n  web:\n    image: ${IMG}\n    privileged: true\n`);
    expect((await sb.run(['compose', '-f', priv, 'up', '-d'])).stderr).toMatch(/priv.yaml:4: services.web.privileged is not supported yet/);
    expect((await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}}')).stdout).toBe('');
  });
});
