// build's flags beyond the Dockerfile, each by its effect on a real build by the unprivileged test
// user: what the image's config says (--env, --from, --identity-label, --omit-history, the target
// platform), where the output goes (--logfile, --output, and that --output never writes through a
// symlink), what reaches RUN steps (--stdin, --runtime-flag, the --userns-*-map flags), how base
// images are pulled (--creds, --authfile, --cert-dir, --tls-verify, --retry, --retry-delay), the
// registry cache (--cache-to, --cache-from), and the flags refused with their one line.
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildHelpers } from '../helpers/build.js';
import { TEST_USER, testIds, useSandbox } from '../helpers/cli.js';
import { fixed, type HostileRegistry, startHostileRegistry } from '../helpers/hostile-registry.js';
import { type Registry, startRegistry } from '../helpers/registry.js';

const plain = inject('plainRegistry');
const basic = inject('basicRegistry');
const IMG = `${plain}/skiff/busybox`;
const HOST_ARCH = process.arch === 'x64' ? 'amd64' : process.arch;
// The index skiff/multi has an amd64 and an arm64 image; only the arm64 one has /etc/arch.
const FOREIGN = HOST_ARCH === 'arm64' ? 'amd64' : 'arm64';
const QEMU = FOREIGN === 'arm64' ? 'aarch64' : 'x86_64';

const sb = useSandbox('build-flags', { pull: [IMG] });
const { context, runIn, inspect, containersLeft } = buildHelpers(sb);

const idOf = (stdout: string) => stdout.trim().split('\n').pop()!;
const configOf = (id: string) => JSON.parse(readFileSync(join(sb.dataDir, 'images', id, 'config.json'), 'utf8'));
const manifestOf = (id: string) => JSON.parse(readFileSync(join(sb.dataDir, 'images', id, 'manifest.json'), 'utf8'));
const errorLine = (stderr: string) => stderr.trim().split('\n').pop() ?? '';
// A directory of the test user's under the sandbox's home.
const userDir = (name: string): string => {
  const dir = join(sb.home, name);
  mkdirSync(dir, { recursive: true });
  const { uid, gid } = testIds();
  chownSync(dir, uid, gid);
  return dir;
};

describe('build flags: the image', () => {
  it('--env sets variables RUN steps see and the image keeps, over the Dockerfile ENV', async () => {
    const dir = context('env', { Dockerfile: `FROM ${IMG}\nENV A=1\nRUN echo "A=$A FOO=$FOO FROMHOST=$FROMHOST" > /seen\n` });
    const r = await sb.run(['build', '--env', 'A=2', '--env', 'FOO=bar', '--env', 'FROMHOST', '-t', 'env', dir], { env: { FROMHOST: 'here' } });
    expect(r.code, r.stderr).toBe(0);
    const env = (await inspect('env')).Config.Env as string[];
    expect(env).toEqual(expect.arrayContaining(['A=2', 'FOO=bar', 'FROMHOST=here']));
    expect(env).not.toContain('A=1');
    expect(await runIn('env', 'cat /seen')).toBe('A=1 FOO=bar FROMHOST=here\n');
    // Without --env, the same Dockerfile's image has none of them (the cache does not mix the two up).
    await sb.runCli(0, 'build', '-t', 'no-env', dir);
    expect((await inspect('no-env')).Config.Env).not.toEqual(expect.arrayContaining(['FOO=bar']));
  });

  it('--from replaces the first FROM', async () => {
    const dir = context('from', { Dockerfile: 'FROM example.invalid/not-there:1 AS first\nRUN echo built > /built\n' });
    const r = await sb.runCli(0, 'build', '--from', IMG, '-t', 'from', dir);
    expect(r.stdout).toMatch(new RegExp(`^STEP 1/2: FROM ${IMG} AS first$`, 'm'));
    expect(await runIn('from', 'cat /built')).toBe('built\n');
    expect((await sb.run(['build', dir])).code).toBe(125); // without it, the Dockerfile's base
  });

  it('labels the image io.skiff.version unless --identity-label=false; --omit-history leaves no history', async () => {
    const dir = context('identity', { Dockerfile: `FROM ${IMG}\nLABEL mine=yes\nRUN touch /x\n` });
    await sb.runCli(0, 'build', '-t', 'identity', dir);
    const labelled = await inspect('identity');
    expect(labelled.Labels).toMatchObject({ mine: 'yes', 'io.skiff.version': expect.stringMatching(/^\d+\.\d+/) });
    expect(labelled.History.map((h: { created_by: string }) => h.created_by)).toEqual(expect.arrayContaining(['/bin/sh -c touch /x']));
    await sb.runCli(0, 'build', '--identity-label=false', '--omit-history', '-t', 'anonymous', dir);
    const bare = await inspect('anonymous');
    expect(bare.Labels).toEqual({ mine: 'yes' });
    expect(bare.History).toEqual([]);
    expect(configOf(bare.Id).history).toBeUndefined();
    expect((await sb.runCli(0, 'history', '--format', '{{.CreatedBy}}', 'anonymous')).stdout.trim()).toBe('');
    expect(await runIn('anonymous', 'test -e /x && echo has-x')).toBe('has-x\n');
  });

  it('stores new layers gzipped with --disable-compression=false (uncompressed by default, as Podman)', async () => {
    const dir = context('compress', { Dockerfile: `FROM ${IMG}\nRUN echo compress-me-${Date.now()} > /c\n` });
    const plainId = idOf((await sb.runCli(0, 'build', '--compress', '-t', 'uncompressed', dir)).stdout);
    expect(manifestOf(plainId).layers.at(-1).mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar');
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${IMG}\nRUN echo gzip-me-${Date.now()} > /c\n`);
    const gzId = idOf((await sb.runCli(0, 'build', '-D=false', '-t', 'compressed', dir)).stdout);
    expect(idOf((await sb.runCli(0, 'build', '--disable-compression=false', '-t', 'compressed', dir)).stdout)).toBe(gzId);
    expect(manifestOf(gzId).layers.at(-1).mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
    expect(await runIn('compressed', 'cat /c')).toMatch(/^gzip-me-/);
  });

  it('preprocesses a Containerfile named *.in with cpp and --cpp-flag', async () => {
    const dir = context('cpp', {
      'Containerfile.in': `FROM ${IMG}\n#include "common.in"\n#ifdef EXTRA\nRUN echo extra >> /made\n#endif\n`,
      'common.in': 'RUN echo common > /made\n',
    });
    await sb.runCli(0, 'build', '-f', join(dir, 'Containerfile.in'), '--cpp-flag', '-DEXTRA', '-t', 'cpp', dir);
    expect(await runIn('cpp', 'cat /made')).toBe('common\nextra\n');
    await sb.runCli(0, 'build', '-f', join(dir, 'Containerfile.in'), '-t', 'cpp-plain', dir);
    expect(await runIn('cpp-plain', 'cat /made')).toBe('common\n');
    writeFileSync(join(dir, 'Containerfile.in'), `FROM ${IMG}\n#include "missing.in"\n`);
    const bad = await sb.run(['build', '-f', join(dir, 'Containerfile.in'), dir]);
    expect(bad.code).toBe(125);
    expect(errorLine(bad.stderr)).toMatch(/preprocessing Containerfile\.in: .*missing\.in/);
  });
});

describe('build flags: the platform', () => {
  it('--arch picks the index entry for FROM and records the platform; RUN needs an emulator', async () => {
    const dir = context('foreign', { Dockerfile: `FROM ${plain}/skiff/multi\nCOPY note /note\n`, note: 'copied\n' });
    const out = join(userDir('foreign-out'), 'root');
    const r = await sb.runCli(0, 'build', '--arch', FOREIGN, '--os-version', '1.2', '--os-feature', 'f1', '-o', out, '-t', 'foreign', dir);
    const id = idOf(r.stdout);
    expect(configOf(id)).toMatchObject({ architecture: FOREIGN, os: 'linux', 'os.version': '1.2', 'os.features': ['f1'] });
    expect(existsSync(join(out, 'etc', 'arch'))).toBe(FOREIGN === 'arm64');
    expect(readFileSync(join(out, 'note'), 'utf8')).toBe('copied\n');
    // The same Dockerfile for this host: its own entry, its own config.
    const native = idOf((await sb.runCli(0, 'build', '--platform', `linux/${HOST_ARCH}`, dir)).stdout);
    expect(configOf(native).architecture).toBe(HOST_ARCH);
    // A RUN step runs the image's binaries: without an emulator registered for them, refused in one line.
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${plain}/skiff/multi\nRUN echo ran > /ran\n`);
    const emulator = existsSync(`/proc/sys/fs/binfmt_misc/qemu-${QEMU}`);
    const run = await sb.run(['build', '--platform', `linux/${FOREIGN}`, dir]);
    if (emulator) expect(run.code, run.stderr).toBe(0);
    else {
      expect(run.code).toBe(125);
      expect(errorLine(run.stderr)).toMatch(new RegExp(`RUN needs linux/${FOREIGN} binaries run, and this host is linux/${HOST_ARCH} and has no emulator`));
    }
    expect(await containersLeft()).toBe('');
  });

  it('--variant, --os-version and --os-feature (FEATURE- takes one away) go into the config', async () => {
    const dir = context('variant', { Dockerfile: 'FROM scratch\nCOPY note /note\n', note: 'n\n' });
    const id = idOf(
      (await sb.runCli(0, 'build', '--arch', 'arm', '--variant', 'v7', '--os-feature', 'a', '--os-feature', 'b', '--os-feature', 'a-', dir)).stdout,
    );
    expect(configOf(id)).toMatchObject({ architecture: 'arm', variant: 'v7', os: 'linux', 'os.features': ['b'] });
    expect(configOf(id)['os.version']).toBeUndefined();
  });

  it('refuses --platform with --arch, and several platforms (a manifest list)', async () => {
    const dir = context('platforms', { Dockerfile: `FROM ${IMG}\n` });
    const both = await sb.run(['build', '--platform', 'linux/amd64', '--arch', 'arm64', dir]);
    expect(both.code).toBe(125);
    expect(errorLine(both.stderr)).toMatch(/--platform may not be used with --os, --arch or --variant/);
    const several = await sb.run(['build', '--platform', 'linux/amd64,linux/arm64', dir]);
    expect(several.code).toBe(125);
    expect(errorLine(several.stderr)).toMatch(/manifest list, which skiff cannot write yet/);
  });
});

describe('build flags: output', () => {
  it('--logfile takes every line and the id; --logsplit names the file by platform', async () => {
    const dir = context('logfile', { Dockerfile: `FROM ${IMG}\nRUN echo from-the-run\n` });
    const logs = userDir('logs');
    const r = await sb.runCli(0, 'build', '--no-cache', '--logfile', join(logs, 'build.log'), '-t', 'logged', dir);
    expect(r.stdout).toBe('');
    const log = readFileSync(join(logs, 'build.log'), 'utf8');
    expect(log).toMatch(/^STEP 1\/2: FROM /m);
    expect(log).toMatch(/^from-the-run$/m);
    expect(log).toMatch(/^Successfully tagged localhost\/logged:latest$/m);
    expect(log.trim().split('\n').pop()).toMatch(/^[0-9a-f]{64}$/);
    await sb.runCli(0, 'build', '--logfile', join(logs, 'split.log'), '--logsplit', dir);
    expect(readFileSync(join(logs, 'split.log'), 'utf8')).toBe('');
    expect(readFileSync(join(logs, `split.log_linux_${HOST_ARCH}`), 'utf8')).toMatch(/^STEP 2\/2: RUN echo from-the-run$/m);
    const alone = await sb.run(['build', '--logsplit', dir]);
    expect(alone.code).toBe(125);
    expect(errorLine(alone.stderr)).toMatch(/--logsplit .* give --logfile too/);
  });

  it('--output writes the files to a directory or a tar, never through a symlink', async () => {
    const dir = context('output', {
      Dockerfile: `FROM ${IMG}\nRUN mkdir -p /out/sub && echo hello > /out/sub/file && ln -s /etc/passwd /out/link\n`,
    });
    const dest = join(userDir('exported'), 'root');
    const r = await sb.runCli(0, 'build', '-o', dest, '-t', 'output', dir);
    expect(r.stdout).toMatch(/^[0-9a-f]{64}$/m); // the image is built too
    expect(readFileSync(join(dest, 'out', 'sub', 'file'), 'utf8')).toBe('hello\n');
    expect(readlinkSync(join(dest, 'out', 'link'))).toBe('/etc/passwd'); // a link, as the image has it
    expect(existsSync(join(dest, 'bin', 'sh'))).toBe(true);
    const tar = join(sb.home, 'exported', 'root.tar');
    await sb.runCli(0, 'build', '--output', `type=tar,dest=${tar}`, dir);
    expect(execFileSync('tar', ['-tf', tar], { encoding: 'utf8' })).toMatch(/^out\/sub\/file$/m);
    const stdout = await sb.runCli(0, 'build', '-q', '-o', '-', dir);
    expect(stdout.stdout).toContain('out/sub/file');
    expect(stdout.stdout).toContain('hello\n');
    // The attack: an earlier export left a link to a directory of the user's; this build has a
    // directory there. The link is replaced; nothing is written where it pointed.
    const victim = userDir('victim');
    const attack = context('output-attack', { Dockerfile: `FROM ${IMG}\nRUN ln -s ${victim} /escape\n` });
    const target = join(userDir('attacked'), 'root');
    await sb.runCli(0, 'build', '-o', target, attack);
    expect(readlinkSync(join(target, 'escape'))).toBe(victim);
    writeFileSync(join(attack, 'Dockerfile'), `FROM ${IMG}\nRUN mkdir /escape && echo planted > /escape/planted\n`);
    await sb.runCli(0, 'build', '-o', target, attack);
    expect(readdirSync(victim)).toEqual([]);
    expect(lstatSync(join(target, 'escape')).isDirectory()).toBe(true);
    expect(readFileSync(join(target, 'escape', 'planted'), 'utf8')).toBe('planted\n');
    for (const bad of ['type=zip,dest=x', 'type=local', 'type=local,dest=-', 'type=tar,dest=x,compression=gzip']) {
      const refused = await sb.run(['build', '-o', bad, dir]);
      expect(refused.code, bad).toBe(125);
      expect(errorLine(refused.stderr)).toMatch(/^Error: --output /);
    }
  });
});

describe('build flags: RUN steps', () => {
  it('--stdin passes standard input to RUN steps', async () => {
    const dir = context('stdin', { Dockerfile: `FROM ${IMG}\nRUN cat > /in\nRUN cat > /second\n` });
    const r = await sb.run(['build', '--stdin', '-t', 'stdin', dir], { input: 'from standard input\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(await runIn('stdin', 'cat /in; echo "second: $(cat /second)"')).toBe('from standard input\nsecond: \n');
    expect(await containersLeft()).toBe('');
  });

  it("--runtime-flag reaches the RUN steps' runtime", async () => {
    const dir = context('runtime-flag', { Dockerfile: `FROM ${IMG}\nRUN echo with-flag-${Date.now()}\n` });
    await sb.runCli(0, 'build', '--runtime-flag', 'debug', dir);
    const bogus = await sb.run(['build', '--no-cache', '--runtime-flag', 'no-such-runtime-flag', dir]);
    expect(bogus.code).not.toBe(0);
    expect(bogus.stderr).toMatch(/crun|runc/);
    expect(await containersLeft()).toBe('');
  });

  it('--userns-uid-map and --userns-gid-map give RUN steps that map, the layer the container ids', async () => {
    // Root in the container is not the user: the store must be searchable by others (as for run).
    for (const d of [sb.dir, join(sb.home, '.local'), join(sb.home, '.local/share')]) chmodSync(d, statSync(d).mode | 0o001);
    const dir = context('userns-map', {
      Dockerfile: `FROM ${IMG}\nRUN cat /proc/self/uid_map > /uidmap && touch /made && chown 7:8 /made && id -u > /uid\n`,
    });
    await sb.runCli(0, 'build', '--userns-uid-map', '0:1:5000', '--userns-gid-map', '0:1:5000', '-t', 'userns-map', dir);
    expect(await runIn('userns-map', 'tr -s " " < /uidmap; cat /uid; stat -c "%u:%g" /made /uid')).toBe(' 0 1 5000\n0\n7:8\n0:0\n');
    // NAME's /etc/subuid ranges: skiff's namespace has the test user's, from its id 1 on.
    const user = process.getuid?.() === 0 ? TEST_USER : process.env.USER!;
    const [, , size] = readFileSync('/etc/subuid', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${user}:`))!
      .split(':');
    await sb.runCli(0, 'build', '--no-cache', '--userns-uid-map-user', user, '-t', 'userns-user', dir);
    expect(await runIn('userns-user', 'tr -s " " < /uidmap; stat -c "%u:%g" /made')).toBe(` 0 1 ${size}\n7:8\n`);
    const nobody = await sb.run(['build', '--userns-uid-map-user', 'no-such-user-here', dir]);
    expect(nobody.code).toBe(125);
    expect(errorLine(nobody.stderr)).toMatch(/--userns-uid-map-user no-such-user-here: \/etc\/subuid has no range for no-such-user-here/);
  });
});

describe('build flags: pulling the base', () => {
  it('--creds and --authfile reach FROM on a registry that needs them', async () => {
    const dir = context('auth', { Dockerfile: `FROM ${basic}/private/busybox\nRUN echo authed > /a\n` });
    const denied = await sb.run(['build', dir]);
    expect(denied.code).toBe(125);
    expect(errorLine(denied.stderr)).toMatch(/authentication required/);
    await sb.runCli(0, 'build', '--pull=always', '--creds', 'tester:secret', '-t', 'creds', dir);
    expect(await runIn('creds', 'cat /a')).toBe('authed\n');
    const authfile = join(userDir('auth'), 'auth.json');
    writeFileSync(authfile, JSON.stringify({ auths: { [basic]: { auth: Buffer.from('tester:secret').toString('base64') } } }));
    await sb.runCli(0, 'build', '--pull=always', '--authfile', authfile, '-t', 'authfile', dir);
    const wrong = await sb.run(['build', '--pull=always', '--creds', 'tester:wrong', dir]);
    expect(wrong.code).toBe(125);
  });

  describe('over TLS', () => {
    let tls: Registry;
    beforeAll(async () => {
      tls = await startRegistry({ tls: true });
    });
    afterAll(async () => {
      await tls.stop();
    });
    // The registry is empty: "manifest unknown" shows the TLS handshake went through.
    it('--cert-dir and --tls-verify=false reach FROM', async () => {
      const dir = context('tls', { Dockerfile: `FROM ${tls.host}/skiff/none\n` });
      const strict = await sb.run(['build', dir]);
      expect(strict.code).toBe(125);
      expect(errorLine(strict.stderr)).toMatch(/TLS verification failed/);
      const certs = userDir('certs');
      copyFileSync(tls.caFile!, join(certs, 'ca.crt'));
      expect(errorLine((await sb.runCli(125, 'build', '--cert-dir', certs, dir)).stderr)).toMatch(/manifest unknown/);
      expect(errorLine((await sb.runCli(125, 'build', '--tls-verify=false', dir)).stderr)).toMatch(/manifest unknown/);
      expect(errorLine((await sb.runCli(125, 'build', '--cert-dir', join(certs, 'nope'), dir)).stderr)).toMatch(/--cert-dir .*nope: no such directory/);
    });
  });

  describe('retries', () => {
    let hostile: HostileRegistry;
    beforeAll(async () => {
      hostile = await startHostileRegistry();
      hostile.route('/v2/flaky/manifests/latest', fixed('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}', {}, 503));
    });
    afterAll(async () => {
      await hostile.stop();
    });
    it('--retry and --retry-delay decide how often and how far apart a failing pull is tried', async () => {
      const dir = context('retry', { Dockerfile: `FROM ${hostile.host}/flaky\n` });
      const path = '/v2/flaky/manifests/latest';
      const once = await sb.run(['build', '--retry', '0', dir]);
      expect(once.code).toBe(125);
      expect(hostile.hits(path)).toBe(1);
      const started = Date.now();
      const thrice = await sb.run(['build', '--retry', '2', '--retry-delay', '700ms', dir]);
      expect(thrice.code).toBe(125);
      expect(errorLine(thrice.stderr)).toMatch(/answered 503 .*after 3 attempts/);
      expect(hostile.hits(path)).toBe(4);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
      expect((await sb.run(['build', '--retry', 'x', dir])).code).toBe(125);
    });
  });
});

describe('build flags: the registry cache', () => {
  it('--cache-to pushes each step under its key; --cache-from takes it instead of running the step', async () => {
    const repo = `${plain}/cache/flags-${Date.now()}`;
    const dir = context('remote-cache', { Dockerfile: `FROM ${IMG}\nRUN echo ran-the-step && echo cached > /c\nCOPY f /f\n`, f: 'file\n' });
    const first = await sb.runCli(0, 'build', '--cache-to', repo, '-t', 'cached-remote', dir);
    expect(first.stdout).toMatch(/^ran-the-step$/m);
    const tags = (await (await fetch(`http://${repo.replace(`${plain}/`, `${plain}/v2/`)}/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toHaveLength(2);
    expect(tags.tags.every((t) => /^[0-9a-f]{64}$/.test(t))).toBe(true);
    // Nothing of the build left in the store (the base pulled again): the steps come from the registry.
    await sb.runCli(0, 'rmi', '-a', '-f');
    const second = await sb.runCli(0, 'build', '--cache-from', repo, '-t', 'from-remote', dir);
    expect(second.stdout).not.toMatch(/^ran-the-step$/m);
    expect(second.stdout.match(/--> Using cache/g)).toHaveLength(2);
    expect(await runIn('from-remote', 'cat /c /f')).toBe('cached\nfile\n');
    expect((await sb.runCli(0, 'images', '--format', '{{.Repository}}')).stdout).not.toMatch(/cache\/flags/);
    const noLayers = await sb.run(['build', '--layers=false', '--cache-from', repo, dir]);
    expect(noLayers.code).toBe(125);
    const tagged = await sb.run(['build', '--cache-to', `${repo}:tag`, dir]);
    expect(tagged.code).toBe(125);
    expect(errorLine(tagged.stderr)).toMatch(/--cache-to .*: name a repository, without a tag or digest/);
  });
});

describe('build flags: refused', () => {
  it.each([
    [['--all-platforms'], /--all-platforms .*manifest list, which skiff cannot write yet/],
    [['--manifest', 'mylist'], /--manifest .*manifest list, which skiff cannot write yet/],
    [['--sign-by', 'ABCD'], /--sign-by: skiff does not sign images/],
    [['--decryption-key', 'key.pem'], /--decryption-key: skiff has no encrypted images/],
    [['--hooks-dir', '/usr/share/containers/oci/hooks.d'], /--hooks-dir: skiff does not run OCI hooks yet/],
  ])('%s exits 125 with one line', async (flags, message) => {
    const dir = context('refused', { Dockerfile: `FROM ${IMG}\n` });
    const r = await sb.run(['build', ...flags, dir]);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});
