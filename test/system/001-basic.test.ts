// Smoke: the CLI starts, speaks Podman's conventions, and describes the host.
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { useSandbox } from '../helpers/cli.js';

const sb = useSandbox('basic');

describe('basics', () => {
  it('prints its version', async () => {
    expect((await sb.runCli(0, '--version')).stdout).toMatch(/^skiff version \d+\.\d+\.\d+\n$/); // podman version X.Y.Z
    const json = JSON.parse((await sb.runCli(0, 'version', '--format', 'json')).stdout);
    expect(json.Client.Version).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await sb.runCli(0, 'version', '--format', '{{.Client.OsArch}}')).stdout).toMatch(/^linux\/\w+\n$/);
  });

  it('ends quietly, with its own exit code, when the reader of its output stops early', async () => {
    // A pipe whose reader is gone before the output comes (`skiff … | true`).
    const child = sb.spawn(['version', '--format', '{{.Client.Version}}'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.destroy();
    const [code] = (await once(child, 'close')) as [number | null];
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('exits 125 with one line for unknown commands and flags', async () => {
    const cmd = await sb.runCli(125, 'frobnicate');
    expect(cmd.stderr).toMatch(/^Error: unknown command 'frobnicate'/);
    const flag = await sb.runCli(125, 'images', '--bogus');
    expect(flag.stderr).toMatch(/^Error: unknown option '--bogus'/);
    const missing = await sb.runCli(125, 'pull');
    expect(missing.stderr).toMatch(/^Error: missing required argument 'image'/);
  });

  it('builds every command group (help for each, no flag clashes)', async () => {
    for (const group of ['', 'image', 'container', 'manifest', 'system']) {
      const r = await sb.runCli(0, ...(group ? [group] : []), '--help');
      expect(r.stdout).toMatch(/^Usage: skiff/);
    }
    for (const cmd of ['run', 'create', 'exec', 'ps', 'rm', 'stop', 'logs', 'start', 'unshare'])
      expect((await sb.runCli(0, cmd, '--help')).stdout).toMatch(new RegExp(`^Usage: skiff ${cmd}`));
  });

  it('says a command is unknown, with --help too, and exits 125', async () => {
    for (const args of [['nosuch'], ['nosuch', '--help'], ['--log-level', 'debug', 'nosuch', '-h']]) {
      const r = await sb.run(args);
      expect(r.code, args.join(' ')).toBe(125);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^Error: unknown command 'nosuch'\n/);
    }
  });

  it("keeps the user's V8 code cache per command: written once, rewritten when Node rejects it", async () => {
    const dir = join(sb.home, '.cache/skiff/code');
    await sb.runCli(0, 'images');
    const name = readdirSync(dir).find((n) => n.endsWith(`-${process.version}-images`));
    expect(name, readdirSync(dir).join(' ')).toBeDefined();
    const path = join(dir, name!);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const first = statSync(path);
    await sb.runCli(0, 'images');
    expect(statSync(path).ino).toBe(first.ino); // accepted: left as it is
    const garbage = Buffer.alloc(first.size, 7);
    writeFileSync(path, garbage);
    expect((await sb.runCli(0, 'images', '--format', 'json')).stdout.trim()).toBe('[]');
    expect(readFileSync(path).equals(garbage)).toBe(false); // rejected by V8: replaced
    // A failing command writes none; a new one removes the caches of other builds of skiff.
    await sb.runCli(125, 'frobnicate');
    writeFileSync(join(dir, `0000000000000000-${process.version}-network`), 'stale');
    await sb.runCli(0, 'network', 'ls');
    const names = readdirSync(dir);
    expect(names.some((n) => n.includes('frobnicate'))).toBe(false);
    expect(names.some((n) => n.startsWith('0000000000000000'))).toBe(false);
    expect(names.filter((n) => n.endsWith('-network'))).toHaveLength(1);
    // Global options' values are not the command; `container X` is X's own.
    await sb.runCli(0, '--log-level', 'error', 'container', 'ls');
    const commands = readdirSync(dir).map((n) => n.split('-').slice(2).join('-'));
    expect(commands).toContain('container-ls');
    expect(commands).not.toContain('error');
  });

  it('works the same when its code cache cannot be read or written (exit code, output)', async () => {
    const locked = join(sb.dir, 'locked-cache');
    mkdirSync(locked);
    chmodSync(locked, 0);
    const r = await sb.run(['--version'], { env: { XDG_CACHE_HOME: join(locked, 'cache') } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^skiff version \d+\.\d+\.\d+\n$/);
  });

  it('neither reads nor writes a code cache in a directory others can write to', async () => {
    const shared = join(sb.dir, 'shared-cache');
    const code = join(shared, 'skiff', 'code');
    mkdirSync(code, { recursive: true });
    chmodSync(code, 0o777);
    const r = await sb.run(['--version'], { env: { XDG_CACHE_HOME: shared } });
    expect(r.code).toBe(0);
    expect(readdirSync(code)).toEqual([]);
  });

  it('shows info with paths, id mappings and the host', async () => {
    const info = JSON.parse((await sb.runCli(0, 'info', '--format', 'json')).stdout);
    expect(info.store.graphRoot).toBe(sb.dataDir);
    expect(info.store.runRoot).toBe(`${sb.dir}/run/skiff`);
    expect(info.host.rootless).toBe(true);
    expect(info.host.idMappings.uidmap[0]).toMatchObject({ container_id: 0, size: 1 });
    expect(info.host.idMappings.uidmap[1]).toMatchObject({ container_id: 1, size: 65536 });
    expect(['v1', 'v2', 'hybrid', 'none']).toContain(info.host.cgroupVersion);
    expect(info.host.networkBackend).toBe('bridge'); // slirp4netns, nft and ip are installed: the default bridge network
    expect((await sb.runCli(0, 'info', '--format', '{{.Store.GraphRoot}}')).stdout.trim()).toBe(sb.dataDir);
    expect((await sb.runCli(0, 'info')).stdout).toMatch(/^host:\n {2}arch: /);
  });

  it('checks the host one line per prerequisite', async () => {
    const result = await sb.run(['system', 'check']);
    const lines = result.stdout.trim().split('\n');
    for (const name of [
      'newuidmap',
      'newgidmap',
      'subuid',
      'subgid',
      'user namespaces',
      'native overlay',
      '/dev/fuse',
      '/dev/net/tun',
      'network helper',
      'named networks',
      'network firewall',
      'OCI runtime',
      'cgroups',
      'XDG_RUNTIME_DIR',
      'systemd user session',
      'linger',
    ]) {
      expect(
        lines.some((l) => new RegExp(`^(ok  |warn|FAIL)  ${name.replace(/\//g, '\\/')}\\s`).test(l)),
        name,
      ).toBe(true);
    }
    const failedRequired = JSON.parse((await sb.run(['system', 'check', '--format', 'json'])).stdout).some(
      (r: { required: boolean; status: string }) => r.required && r.status === 'fail',
    );
    expect(result.code).toBe(failedRequired ? 1 : 0);
    expect(lines.find((l) => l.includes(' subuid '))).toMatch(/^ok {4}subuid\s+\d+-\d+/);
    for (const line of lines.filter((l) => l.startsWith('FAIL'))) expect(line).toMatch(/ — fix: /);
  });
});
