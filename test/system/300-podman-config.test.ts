// A Podman user's configuration carries over: registries.conf (search registries for short names,
// aliases, blocked registries), containers.conf (container defaults seen in real containers, the
// runtime, events), REGISTRY_AUTH_FILE and the auth files Podman reads, and OCI hooks running for
// real under runc (a hook script that writes a marker file at createRuntime, poststart, poststop).
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildFixtures } from '../fixtures/images.js';
import { testIds, until, useSandbox } from '../helpers/cli.js';
import { buildImage, freePort, pushImage, startRegistry, type Registry } from '../helpers/registry.js';

const plain = inject('plainRegistry');
const basic = inject('basicRegistry');
const sb = useSandbox('podman-config');
// A registry of this file's own, holding `busybox` at its top (what `run busybox` looks for).
let own: Registry;

// Writes a file as the test user would have it (its directories the user's too).
const userFile = (path: string, text: string, mode = 0o644): string => {
  const { uid, gid } = testIds();
  for (let dir = dirname(path); !existsSync(dir); dir = dirname(dir)) {
    mkdirSync(dir, { recursive: true });
  }
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
  for (let p = path; p.startsWith(sb.dir) && p !== sb.dir; p = dirname(p)) chownSync(p, uid, gid);
  return path;
};

const containersDir = () => join(sb.home, '.config/containers');
const registriesConf = (text: string) => userFile(join(containersDir(), 'registries.conf'), text);
const containersConf = (text: string) => userFile(join(containersDir(), 'containers.conf'), text);

beforeAll(async () => {
  own = await startRegistry();
  const f = await buildFixtures();
  await pushImage(own.host, 'busybox', 'latest', buildImage([f.base, f.app]));
});
afterAll(async () => {
  await own?.stop();
});
afterEach(async () => {
  rmSync(containersDir(), { recursive: true, force: true });
  rmSync(join(sb.home, '.config/skiff'), { recursive: true, force: true });
  await sb.run(['rm', '-a', '-f', '-t', '0']);
});

describe('registries.conf', () => {
  it('sends short names to its search registries, in order: `run busybox` and `pull`', async () => {
    const dead = await freePort();
    registriesConf(`unqualified-search-registries = ["127.0.0.1:${dead}", "${own.host}"]\n`);
    const run = await sb.run(['run', '--rm', 'busybox', 'sh', '-c', 'echo from-search-registry']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('from-search-registry\n');
    expect(run.stderr).toContain(`Trying to pull 127.0.0.1:${dead}/busybox:latest...`);
    expect(run.stderr).toContain(`Trying to pull ${own.host}/busybox:latest...`);
    expect(run.stderr).not.toContain('docker.io');
    registriesConf(`unqualified-search-registries = ["${own.host}", "${plain}"]\n`);
    const second = await sb.runCli(0, 'pull', 'skiff/busybox-oci:1.0');
    expect(second.stderr).toContain(`Trying to pull ${plain}/skiff/busybox-oci:1.0...`);
    expect((await sb.runCli(0, 'images', '--format', '{{.Repository}}:{{.Tag}}')).stdout).toContain(`${plain}/skiff/busybox-oci:1.0`);
  });

  it('resolves an alias outright (a drop-in file), over the search registries', async () => {
    registriesConf('unqualified-search-registries = ["127.0.0.1:1"]\n');
    userFile(join(containersDir(), 'registries.conf.d/50-aliases.conf'), `[aliases]\n"mybox" = "${plain}/skiff/busybox"\n`);
    const pull = await sb.runCli(0, 'pull', 'mybox');
    expect(pull.stderr).toContain(`Trying to pull ${plain}/skiff/busybox:latest...`);
    expect(pull.stderr).not.toContain('127.0.0.1:1/');
    expect((await sb.runCli(0, 'image', 'exists', `${plain}/skiff/busybox`)).code).toBe(0);
    // The short name finds the image its alias pulled: nothing is pulled again.
    const run = await sb.runCli(0, 'run', '--rm', 'mybox', 'sh', '-c', 'echo aliased');
    expect(run).toMatchObject({ stdout: 'aliased\n', stderr: '' });
  });

  it('refuses a blocked registry, naming the file; and an ambiguous short name in enforcing mode', async () => {
    const conf = registriesConf(`[[registry]]\nlocation = "${plain}"\nblocked = true\n`);
    const blocked = await sb.run(['pull', `${plain}/skiff/busybox`]);
    expect(blocked.code).toBe(125);
    expect(blocked.stderr).toBe(`Error: pulling from ${plain}/skiff/busybox is blocked by ${conf}\n`);
    registriesConf(`short-name-mode = "enforcing"\nunqualified-search-registries = ["${own.host}", "${plain}"]\n`);
    const ambiguous = await sb.run(['pull', 'skiff/busybox']);
    expect(ambiguous.code).toBe(125);
    expect(ambiguous.stderr).toBe(
      `Error: short name "skiff/busybox" matches several search registries (${own.host}, ${plain}) and short-name-mode is "enforcing": use a fully qualified name or add an [aliases] entry to registries.conf\n`,
    );
    // skiff.conf wins where it says something.
    userFile(join(sb.home, '.config/skiff/skiff.conf'), `unqualified-search-registries = ["${plain}"]\n`);
    expect((await sb.run(['pull', '-q', 'skiff/busybox'])).code).toBe(0);
  });

  it('names a malformed file', async () => {
    const conf = registriesConf('unqualified-search-registries = "docker.io"\n');
    const r = await sb.run(['pull', 'busybox']);
    expect(r).toMatchObject({ code: 125, stderr: `Error: ${conf}: unqualified-search-registries must be a list\n` });
  });
});

describe('containers.conf', () => {
  const IMG = `${plain}/skiff/busybox`;
  const inside = async (flags: string[], script: string): Promise<string> => {
    const r = await sb.run(['run', '--rm', ...flags, IMG, 'sh', '-c', script]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };

  it('gives new containers its env, dns_servers, dns_searches, tz and umask; flags win', async () => {
    containersConf(
      '[containers]\nenv = ["FROM_CONF=yes", "BOTH=conf"]\ndns_servers = ["192.0.2.53"]\ndns_searches = ["conf.example"]\ntz = "Asia/Tokyo"\numask = "0027"\n',
    );
    const seen = await inside(['-e', 'BOTH=flag'], 'echo $FROM_CONF $BOTH; while read l; do echo "$l"; done < /etc/resolv.conf; date +%Z; umask');
    expect(seen.split('\n')).toEqual(['yes flag', 'search conf.example', 'nameserver 192.0.2.53', 'JST', '0027', '']);
    const flags = await inside(
      ['--dns', '192.0.2.99', '--tz', 'Europe/Paris', '--umask', '0022'],
      'while read l; do echo "$l"; done < /etc/resolv.conf; date +%Z; umask',
    );
    expect(flags).toMatch(/^search conf\.example\nnameserver 192\.0\.2\.99\nCES?T\n0022\n$/);
  });

  it('gives them its default_capabilities, base_hosts_file and default_ulimits', async () => {
    const base = userFile(join(sb.dir, 'base-hosts'), '# the site\n192.0.2.7\tconf-host\n');
    containersConf(`[containers]\ndefault_capabilities = ["CHOWN", "KILL"]\nbase_hosts_file = "${base}"\ndefault_ulimits = ["nofile=512:1024"]\n`);
    const script = 'while read k v; do [ "$k" = CapBnd: ] && echo $v; done < /proc/self/status; while read l; do echo "$l"; done < /etc/hosts; ulimit -n';
    const seen = (await inside([], script)).split('\n');
    // CAP_CHOWN is bit 0, CAP_KILL bit 5.
    expect(seen[0]).toBe('0000000000000021');
    expect(seen[1]).toBe('192.0.2.7\tconf-host');
    expect(seen.at(-2)).toBe('512');
    expect((await inside(['--cap-add', 'NET_RAW', '--ulimit', 'nofile=256:256'], script)).split('\n')).toEqual(
      expect.arrayContaining(['0000000000002021', '256']),
    );
  });

  it('names the default runtime, below skiff.conf; [engine.runtimes] gives its path', async () => {
    containersConf('[engine]\nruntime = "nosuch-runtime"\n');
    const missing = await sb.run(['run', '--rm', IMG, 'sh', '-c', ':']);
    expect(missing.code).toBe(125);
    expect(missing.stderr).toMatch(/^Error: OCI runtime nosuch-runtime not found/);
    userFile(join(sb.home, '.config/skiff/skiff.conf'), '[engine]\nruntime = "runc"\n');
    expect((await sb.run(['run', '--rm', IMG, 'sh', '-c', ':'])).code).toBe(0);
    rmSync(join(sb.home, '.config/skiff'), { recursive: true, force: true });
    containersConf('[engine]\nruntime = "myrunc"\n[engine.runtimes]\nmyrunc = ["/nonexistent/runc", "/usr/sbin/runc"]\n');
    await sb.runCli(0, 'create', '--name', 'picked', IMG, 'sh', '-c', ':');
    expect((await sb.runCli(0, 'inspect', '--format', '{{.OCIRuntime}}', 'picked')).stdout.trim()).toMatch(/runc$/);
  });

  it('writes events where events_logfile_path says', async () => {
    const file = join(sb.dir, 'events', 'my-events.log');
    userFile(join(file, '..', '.keep'), '');
    containersConf(`[engine]\nevents_logfile_path = "${file}"\n`);
    await sb.runCli(0, 'run', '--rm', '--name', 'evented', IMG, 'sh', '-c', ':');
    expect(readFileSync(file, 'utf8')).toMatch(/"Name":"evented"/);
    expect((await sb.runCli(0, 'events', '--stream=false', '--filter', 'container=evented', '--format', '{{.Status}}')).stdout).toContain('died');
  });

  it('names the file that set a value skiff cannot take', async () => {
    const conf = containersConf('[containers]\nshm_size = "lots"\n');
    const r = await sb.run(['run', '--rm', IMG, 'sh', '-c', ':']);
    expect(r).toMatchObject({ code: 125, stderr: `Error: ${conf}: containers.shm_size "lots" is not a size such as 64m\n` });
  });
});

describe('auth files', () => {
  const PRIVATE = `${basic}/private/busybox`;
  const login = (env: Record<string, string>) => sb.run(['login', '-u', 'tester', '--password-stdin', basic], { input: 'secret\n', env });

  it('REGISTRY_AUTH_FILE is where login writes and the only file pull reads', async () => {
    const authFile = join(sb.dir, 'auth', 'mine.json');
    userFile(join(authFile, '..', '.keep'), '');
    const env = { REGISTRY_AUTH_FILE: authFile };
    expect((await login(env)).code).toBe(0);
    expect(statSync(authFile).mode & 0o777).toBe(0o600);
    expect(existsSync(join(sb.dir, 'run', 'containers', 'auth.json'))).toBe(false);
    expect((await sb.run(['pull', '-q', PRIVATE], { env })).code).toBe(0);
    await sb.runCli(0, 'rmi', PRIVATE);
    // Without it, the credentials are not found.
    const denied = await sb.run(['pull', '-q', PRIVATE]);
    expect(denied.code).toBe(125);
    // ~/.config/containers/auth.json is read when no file is named ...
    userFile(join(containersDir(), 'auth.json'), readFileSync(authFile, 'utf8'), 0o600);
    expect((await sb.run(['pull', '-q', PRIVATE])).code).toBe(0);
    await sb.runCli(0, 'rmi', PRIVATE);
    // ... and not when one is.
    const empty = userFile(join(sb.dir, 'auth', 'empty.json'), '{"auths":{}}', 0o600);
    expect((await sb.run(['pull', '-q', PRIVATE], { env: { REGISTRY_AUTH_FILE: empty } })).code).toBe(125);
  });
});

describe('OCI hooks', () => {
  const IMG = `${plain}/skiff/busybox`;
  let hooksDir: string;
  let marker: string;
  // A hook that appends its stage and the state's status (from stdin) to the marker file.
  const hookFile = (name: string, stages: string[], when: object = { always: true }) =>
    userFile(
      join(hooksDir, name),
      JSON.stringify({ version: '1.0.0', hook: { path: join(sb.dir, 'hook.sh'), args: ['hook.sh', name], env: ['PATH=/usr/bin:/bin'] }, when, stages }),
    );
  const markerLines = (): string[] => (existsSync(marker) ? readFileSync(marker, 'utf8').trim().split('\n') : []);

  beforeAll(() => {
    hooksDir = join(sb.dir, 'hooks.d');
    marker = join(sb.dir, 'hooks-out', 'marker');
    userFile(join(sb.dir, 'hooks-out', '.keep'), '');
    userFile(
      join(sb.dir, 'hook.sh'),
      `#!/bin/sh\nstate=$(cat)\nstatus=$(printf '%s' "$state" | sed -n 's/.*"status": *"\\([a-z]*\\)".*/\\1/p')\necho "$1 $status" >> ${marker}\n`,
      0o755,
    );
  });
  afterEach(() => {
    rmSync(hooksDir, { recursive: true, force: true });
    rmSync(marker, { force: true });
  });

  // Under runc and under crun (on this hybrid cgroup host skiff hides the unified hierarchy from crun).
  it.each(['runc', 'crun'])('runs createRuntime, poststart and poststop hooks for real (%s), from --hooks-dir', async (runtime) => {
    hookFile('10-create.json', ['createRuntime']);
    hookFile('20-start.json', ['poststart']);
    hookFile('30-stop.json', ['poststop']);
    const r = await sb.run(['--runtime', runtime, '--hooks-dir', hooksDir, 'run', '--name', 'hooked', IMG, 'sh', '-c', 'echo ran']);
    expect(r.code, r.stderr).toBe(0);
    // poststop runs in the clean-up after the exit (skiff's own, as Podman's: not the runtime's).
    await until(() => markerLines().length >= 3);
    // (The state's status is the runtime's: runc says "creating" at createRuntime, crun "created".)
    expect(markerLines()).toEqual([
      expect.stringMatching(/^10-create.json (creating|created)$/),
      expect.stringMatching(/^20-start.json (created|running)$/),
      '30-stop.json stopped',
    ]);
    const id = (await sb.runCli(0, 'inspect', '--format', '{{.Id}}', 'hooked')).stdout.trim();
    const spec = JSON.parse(readFileSync(join(sb.dataDir, 'containers', id, 'bundle', 'config.json'), 'utf8'));
    expect(Object.keys(spec.hooks)).toEqual(['createRuntime', 'poststart']);
  });

  it.each(['runc', 'crun'])('takes hooks_dir from containers.conf, matches annotations, and runs poststop of a --rm container (%s)', async (runtime) => {
    containersConf(`[engine]\nhooks_dir = ["${hooksDir}"]\n`);
    hookFile('gpu.json', ['poststart', 'poststop'], { annotations: { '^skiff\\.test\\.gpu$': '^yes$' } });
    await sb.runCli(0, '--runtime', runtime, 'run', '--rm', IMG, 'sh', '-c', ':');
    expect(markerLines()).toEqual([]);
    await sb.runCli(0, '--runtime', runtime, 'run', '--rm', '--annotation', 'skiff.test.gpu=yes', IMG, 'sh', '-c', ':');
    await until(() => markerLines().length >= 2);
    expect(markerLines()).toEqual([expect.stringMatching(/^gpu.json (created|running)$/), 'gpu.json stopped']);
  });

  it('refuses an invalid hook file, naming it, and leaves nothing running', async () => {
    const bad = userFile(
      join(hooksDir, 'broken.json'),
      '{"version": "1.0.0", "hook": {"path": "/nonexistent/hook"}, "when": {"always": true}, "stages": ["poststart"]}',
    );
    const r = await sb.run(['--runtime', 'runc', '--hooks-dir', hooksDir, 'run', '--rm', IMG, 'sh', '-c', ':']);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(`Error: hook file ${bad}: its hook /nonexistent/hook does not exist: fix or remove it\n`);
    expect(sb.namespaceProcesses().filter((p) => p.comm !== 'pasta')).toEqual([]);
  });
});

describe('global options', () => {
  it('--namespace: "" is accepted, a name is refused (one namespace per store)', async () => {
    expect((await sb.run(['--namespace', '', 'ps', '-q'])).code).toBe(0);
    const r = await sb.run(['--namespace', 'team', 'ps']);
    expect(r).toMatchObject({
      code: 125,
      stderr: 'Error: --namespace team: skiff has one namespace per store: use --root DIR and --runroot DIR for a separate set\n',
    });
  });
});
