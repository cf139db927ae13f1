// Podman's global options, before the command: --storage-driver, --runtime, --tmpdir, --conmon,
// --noout, --log-level's other names, --volumepath, --network-config-dir, --network-cmd-path, the
// accepted ones (--storage-opt, --syslog) and the remote ones refused; and the launcher finds the
// command word after any of them (its fast paths and the namespace join).
import { chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { REPO, testIds, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const sb = useSandbox('globals', { pull: [IMG] });

describe('global options', () => {
  it('--storage-driver vfs makes copies; --runtime picks the runtime', async () => {
    await sb.runCli(0, '--storage-driver', 'vfs', 'create', '--name', 'copied', IMG, 'sh', '-c', 'exit 0');
    await sb.runCli(0, '--storage-driver=overlay', 'create', '--name', 'layered', IMG, 'sh', '-c', 'exit 0');
    const driver = async (name: string) => JSON.parse((await sb.runCli(0, 'inspect', name)).stdout)[0].Driver;
    expect(await driver('copied')).toBe('copy');
    expect(await driver('layered')).not.toBe('copy');
    expect((await sb.runCli(0, '--runtime', 'runc', 'run', '--rm', IMG, 'sh', '-c', 'echo ok')).stdout).toBe('ok\n');
    const r = await sb.run(['--runtime', 'nosuchruntime', 'run', '--rm', IMG, 'true']);
    expect([r.code, r.stderr]).toEqual([125, expect.stringMatching(/OCI runtime nosuchruntime not found/)]);
    expect((await sb.run(['--storage-driver', 'zfs', 'ps'])).code).toBe(125);
    await sb.runCli(0, 'rm', 'copied', 'layered');
  });

  it('--noout, --tmpdir, --conmon, --log-level names, the accepted and the refused', async () => {
    const quiet = await sb.run(['--noout', 'run', '--rm', IMG, 'sh', '-c', 'echo hidden; echo shown >&2']);
    expect([quiet.code, quiet.stdout, quiet.stderr]).toEqual([0, '', 'shown\n']);
    expect((await sb.run(['--noout', 'run', '--rm', IMG, 'sh', '-c', 'exit 3'])).code).toBe(3);
    for (const level of ['trace', 'fatal', 'panic']) expect((await sb.run(['--log-level', level, 'ps', '-q'])).code).toBe(0);
    const monitor = join(REPO, 'native/build/skiff-monitor');
    expect((await sb.runCli(0, '--conmon', monitor, 'run', '--rm', IMG, 'sh', '-c', 'echo ok')).stdout).toBe('ok\n');
    expect((await sb.run(['--conmon', '/no/such/monitor', 'run', '--rm', IMG, 'true'])).stderr).toMatch(/--conmon \/no\/such\/monitor: no such file/);
    expect((await sb.runCli(0, '--tmpdir', sb.home, '--storage-opt', 'overlay.mountopt=nodev', '--syslog', 'ps', '-q')).stdout).toBe('');
    for (const remote of [['--remote'], ['--url', 'unix:///x'], ['--connection', 'c'], ['--identity', 'k']]) {
      const r = await sb.run([...remote, 'ps']);
      expect([r.code, r.stderr]).toEqual([125, expect.stringMatching(/skiff has no remote service/)]);
    }
  });

  it('--volumepath and --network-config-dir move those stores; --network-cmd-path is the slirp4netns run', async () => {
    const volumes = join(sb.home, 'elsewhere-volumes');
    const networks = join(sb.home, 'elsewhere-networks');
    await sb.runCli(0, '--volumepath', volumes, 'volume', 'create', 'moved');
    expect(existsSync(join(volumes, 'moved'))).toBe(true);
    expect((await sb.runCli(0, 'volume', 'ls', '-q')).stdout).not.toMatch(/^moved$/m);
    // A container's anonymous and named volumes there too, cleaned up by the monitor's exit command.
    const out = await sb.runCli(0, '--volumepath', volumes, 'run', '--rm', '-v', 'moved:/data', IMG, 'sh', '-c', 'echo kept > /data/f; echo ok');
    expect(out.stdout).toBe('ok\n');
    expect(readFileSync(join(volumes, 'moved', '_data', 'f'), 'utf8')).toBe('kept\n');
    await sb.runCli(0, '--network-config-dir', networks, 'network', 'create', 'movednet');
    expect(existsSync(join(networks, 'movednet.json'))).toBe(true);
    expect((await sb.run(['--network-config-dir', networks, 'network', 'exists', 'movednet'])).code).toBe(0);
    // (The default store has no such record: exists says so.)
    expect((await sb.run(['network', 'exists', 'movednet'])).code).toBe(1);
    await sb.runCli(0, '--network-config-dir', networks, 'network', 'rm', 'movednet');
    // --network-cmd-path: a wrapper that leaves a mark and runs the real slirp4netns.
    const mark = join(sb.home, 'slirp-ran');
    const wrapper = join(sb.home, 'my-slirp4netns');
    writeFileSync(wrapper, `#!/bin/sh\ntouch ${mark}\nexec slirp4netns "$@"\n`, { mode: 0o755 });
    chownSync(wrapper, testIds().uid, testIds().gid);
    expect((await sb.runCli(0, '--network-cmd-path', wrapper, 'run', '--rm', '--network', 'slirp4netns', IMG, 'sh', '-c', 'echo net')).stdout).toBe('net\n');
    expect(existsSync(mark)).toBe(true);
    const bad = await sb.run(['--network-cmd-path', '/no/such/slirp', 'run', '--rm', '--network', 'slirp4netns', IMG, 'true']);
    expect([bad.code, bad.stderr]).toEqual([125, expect.stringMatching(/--network-cmd-path \/no\/such\/slirp: no such file/)]);
  });

  it('the launcher finds the command after them: stats answered without Node, run joins the namespace', async () => {
    // (stats --no-stream's fast path takes no global option: with one, Node answers, and SKIFF_NODE=/bin/false fails.)
    expect((await sb.run(['--tmpdir', sb.home, 'stats', '--no-stream'], { env: { SKIFF_NODE: '/bin/false' } })).code).not.toBe(0);
    expect((await sb.runCli(0, '--storage-opt', 'x=y', '--tmpdir', sb.home, 'run', '--rm', IMG, 'sh', '-c', 'echo inside')).stdout).toBe('inside\n');
  });

  it('--runtime-flag reaches the runtime; --events-backend none records nothing', async () => {
    expect((await sb.runCli(0, '--runtime-flag', 'debug', 'run', '--rm', IMG, 'sh', '-c', 'echo ok')).stdout).toBe('ok\n');
    const bogus = await sb.run(['--runtime-flag', 'no-such-runtime-flag', 'run', '--rm', IMG, 'sh', '-c', 'exit 0']);
    expect(bogus.code).not.toBe(0);
    expect(bogus.stderr).toMatch(/crun|runc/);
    const since = new Date().toISOString();
    await sb.runCli(0, '--events-backend', 'none', 'run', '--rm', '--name', 'silent', IMG, 'sh', '-c', 'exit 0');
    await sb.runCli(0, '--events-backend=file', 'run', '--rm', '--name', 'heard', IMG, 'sh', '-c', 'exit 0');
    const names = (await sb.runCli(0, 'events', '--stream=false', '--since', since, '--format', '{{.Name}}')).stdout;
    expect(names).toContain('heard');
    expect(names).not.toContain('silent');
    expect((await sb.run(['--events-backend', 'journald', 'ps'])).code).toBe(125);
  });
});
