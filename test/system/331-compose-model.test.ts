// The Compose model on real containers: each key that maps to a `skiff run` option takes effect
// (extra_hosts in /etc/hosts, dns, security_opt, container_name, secrets and configs as files with
// their owner and mode, deploy.restart_policy), extends and include make running services, a
// profile's service starts only once its profile is active, deploy limits reach the engine (and
// are refused where no cgroup can enforce them), and a key without effect is warned of.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { useSandbox, writeUserFile } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const sb = useSandbox('compose-model', { pull: [IMG] });
const LOOP = `["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]`;

const file = (name: string, text: string): string => writeUserFile(sb, join('proj', name), text);

const env = (more: Record<string, string> = {}) => ({ env: { ...sb.env, IMG, ...more } });
const compose = async (code: number, args: string[], more: Record<string, string> = {}) => {
  const r = await sb.run(['compose', '-f', join(sb.dir, 'proj', 'compose.yaml'), ...args], env(more));
  expect(r.code, `compose ${args.join(' ')}: ${r.stderr}`).toBe(code);
  return r;
};
const sh = async (container: string, script: string): Promise<string> => (await sb.runCli(0, 'exec', container, 'sh', '-c', script)).stdout;
const show = (path: string) => `while IFS= read -r l || [ -n "$l" ]; do printf '%s\\n' "$l"; done < ${path}`;
const names = async (): Promise<string[]> => (await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}}')).stdout.split('\n').filter(Boolean).sort();

afterAll(async () => {
  await sb.run(['compose', '-f', join(sb.dir, 'proj', 'compose.yaml'), 'down', '-v', '-t', '0'], env());
  await sb.run(['compose', '-f', join(sb.dir, 'proj', 'limits.yaml'), 'down', '-v', '-t', '0'], env());
});

describe('compose model on real containers', () => {
  it('maps extends, include, extra_hosts, dns, security_opt, container_name, secrets, configs and restart_policy', async () => {
    file('token.txt', 's3cret\n');
    file('common.yaml', `services:\n  base:\n    image: \${IMG}\n    command: ${LOOP}\n    environment:\n      FROM_COMMON: "yes"\n`);
    file('sub/compose.yaml', `services:\n  side:\n    image: \${IMG}\n    command: ${LOOP}\n    volumes: ["./data:/data:ro"]\n`);
    file('sub/data/hello.txt', 'hi from sub\n');
    file(
      'compose.yaml',
      `name: cmodel
include:
  - sub/compose.yaml
services:
  web:
    extends:
      file: common.yaml
      service: base
    container_name: cmodel-web
    extra_hosts:
      - "db.example=10.1.2.3"
      - "cache.example:10.1.2.4"
    dns: 10.9.9.9
    security_opt: [no-new-privileges]
    secrets:
      - token
      - source: token
        target: private
        uid: "1000"
        gid: "1000"
        mode: 0400
    configs:
      - source: app
        target: /etc/app.conf
    deploy:
      restart_policy: {condition: on-failure, max_attempts: 2, delay: 1s}
  tools:
    image: \${IMG}
    command: ${LOOP}
    profiles: [tools]
secrets:
  token:
    file: ./token.txt
configs:
  app:
    content: key=value
`,
    );
    const up = await compose(0, ['up', '-d']);
    expect(up.stderr).toContain('WARN: services.web.deploy.restart_policy.delay: skiff restarts at once, without a delay: ignored');
    // container_name names the container; the profile's service is not made.
    expect(await names()).toEqual(['cmodel-side-1', 'cmodel-web']);

    // extends: the base's command and environment; include: the included service, its bind relative to its own directory.
    expect(await sh('cmodel-web', 'echo $FROM_COMMON')).toBe('yes\n');
    expect(await sh('cmodel-side-1', show('/data/hello.txt'))).toBe('hi from sub\n');

    // extra_hosts in /etc/hosts, dns in resolv.conf, no-new-privileges on the process.
    const hosts = await sh('cmodel-web', show('/etc/hosts'));
    expect(hosts).toMatch(/^10\.1\.2\.3\s+db\.example$/m);
    expect(hosts).toMatch(/^10\.1\.2\.4\s+cache\.example$/m);
    expect(await sh('cmodel-web', show('/etc/resolv.conf'))).toMatch(/^nameserver 10\.9\.9\.9$/m);
    expect(await sh('cmodel-web', 'while read k v; do [ "$k" = NoNewPrivs: ] && echo $v; done < /proc/self/status; :')).toBe('1\n');

    // Secrets at /run/secrets (0444 by default; owner and mode as given), the config at its target.
    expect(await sh('cmodel-web', show('/run/secrets/token'))).toBe('s3cret\n');
    expect(await sh('cmodel-web', 'ls -ln /run/secrets/token /run/secrets/private /etc/app.conf')).toMatch(
      /^-r--r--r--\s+1 0\s+0\s+9 .*\/etc\/app.conf\n-r--------\s+1 1000\s+1000\s+7 .*\/run\/secrets\/private\n-r--r--r--\s+1 0\s+0\s+7 .*\/run\/secrets\/token\n$/,
    );
    expect(await sh('cmodel-web', show('/etc/app.conf'))).toBe('key=value\n');
    // Read-only: the container cannot change them.
    expect((await sb.run(['exec', 'cmodel-web', 'sh', '-c', 'echo x > /run/secrets/token'])).code).not.toBe(0);
    // An attack from another user on the host: the copies sit in a directory that is the user's alone.
    const [inspect] = JSON.parse((await sb.runCli(0, 'inspect', 'cmodel-web')).stdout);
    const copies = join(sb.dataDir, 'containers', inspect.Id, 'userdata', 'secrets');
    expect(statSync(copies).mode & 0o777).toBe(0o700);
    expect(readdirSync(copies)).toHaveLength(3);
    expect(inspect.HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 2 });
    expect(inspect.HostConfig.Dns).toEqual(['10.9.9.9']);
    expect(inspect.Config.Labels['com.docker.compose.service']).toBe('web');

    // The profile's service starts once its profile is active (--profile, or COMPOSE_PROFILES).
    await compose(0, ['--profile', 'tools', 'up', '-d']);
    expect(await names()).toEqual(['cmodel-side-1', 'cmodel-tools-1', 'cmodel-web']);
    const ps = await compose(0, ['ps', '--services'], { COMPOSE_PROFILES: 'tools' });
    expect(ps.stdout.split('\n').filter(Boolean).sort()).toEqual(['side', 'tools', 'web']);

    await compose(0, ['--profile', 'tools', 'down', '-t', '0']);
    expect(await names()).toEqual([]);
  });

  it('passes deploy limits to the engine: refused in one line where no cgroup can enforce them, nothing made', async () => {
    const path = file(
      'limits.yaml',
      `services:\n  capped:\n    image: \${IMG}\n    command: ${LOOP}\n    deploy:\n      resources:\n        limits:\n          memory: 64M\n`,
    );
    const r = await sb.run(['compose', '-f', path, 'up', '-d'], env());
    expect(r.code, r.stderr).toBe(125);
    expect(r.stderr).toMatch(/--memory .*cannot be enforced/);
    expect(await names()).toEqual([]);
  });

  it('config prints profiles, images and hashes, and writes to a file', async () => {
    const config = async (...args: string[]) => (await compose(0, ['config', ...args])).stdout;
    expect(await config('--profiles')).toBe('tools\n');
    expect(await config('--services')).toBe('side\nweb\n');
    expect(await config('--images')).toBe(`${IMG}\n${IMG}\n`);
    expect(await config('--hash', 'web')).toMatch(/^web [0-9a-f]{64}\n$/);
    expect(
      (await compose(0, ['--profile', 'tools', 'config', '--hash', '*'])).stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ')[0]),
    ).toEqual(['side', 'tools', 'web']);
    expect(await config('--no-interpolate')).toMatch(/image: \$\{IMG\}/);
    expect((await config('--environment')).split('\n')).toContain(`IMG=${IMG}`);
    const out = join(sb.dir, 'proj', 'out.yaml');
    expect(await config('-o', out)).toBe('');
    expect(statSync(out).size).toBeGreaterThan(100);
    const bad = await sb.run(['compose', '-f', file('bad.yaml', 'services:\n  a:\n    image: x\n    secrets: [nope]\n'), 'config'], env());
    expect(bad.code).toBe(125);
    expect(bad.stderr.trim()).toBe(
      `Error: ${join(sb.dir, 'proj', 'bad.yaml')}:4: services.a.secrets: no secret "nope" in the top-level secrets: declare it there`,
    );
  });
});
