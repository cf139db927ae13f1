// skiff build: Dockerfiles built into images in the store, rootless, by the unprivileged test user
// on the fixture busybox. Each instruction, the layer cache (hits, a changed file rebuilding from its
// step on, a rebuild that runs no container), multi-stage builds with COPY --from and --target,
// .dockerignore, build args, heredocs, -f -, and what must hold: a failing RUN stops the build with
// its code and leaves nothing behind, as does SIGINT; a context's symlinks never reach the host.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { buildHelpers } from '../helpers/build.js';
import { spawnAsTestUser, until, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const sb = useSandbox('build', { pull: [IMG] });

const { context, runIn, inspect, containersLeft } = buildHelpers(sb);

// Another program (podman) as the test user, with the sandbox's home and runtime dir.
const runAsUser = (argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawnAsTestUser(argv[0], argv.slice(1), { env: sb.env, cwd: sb.home });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

describe('skiff build', () => {
  it('builds every instruction into an image that runs, with its config and history', async () => {
    const dir = context('basic', {
      Dockerfile: [
        `FROM ${IMG}`,
        'LABEL org.example.kind="test image" version=1',
        'ENV GREETING=hello TARGET="the world"',
        'WORKDIR /app',
        'COPY hello.txt data/ ./',
        'COPY --chmod=750 --chown=1000:1000 run.sh /usr/local/bin/run.sh',
        'RUN echo "$GREETING, $TARGET" > /app/greeting && mkdir -p /var/lib/thing',
        'USER 1000:1000',
        'EXPOSE 8080 53/udp',
        'VOLUME /var/lib/thing',
        'STOPSIGNAL SIGINT',
        'HEALTHCHECK --interval=5s --retries=2 CMD cat /app/greeting',
        'ENTRYPOINT ["/usr/local/bin/run.sh"]',
        'CMD ["one", "two"]',
        '',
      ].join('\n'),
      'hello.txt': 'hi there\n',
      'data/a': 'A\n',
      'data/sub/b': 'B\n',
      'run.sh': '#!/bin/sh\necho "args: $*"; cat /app/greeting /app/hello.txt /app/a /app/sub/b; id -u\n',
    });
    const r = await sb.runCli(0, 'build', '-t', 'built:1', dir);
    expect(r.stdout).toMatch(/^STEP 1\/14: FROM /m);
    expect(r.stdout).toMatch(/^STEP 7\/14: RUN echo/m);
    expect(r.stdout).toMatch(/^COMMIT built:1$/m);
    expect(r.stdout).toMatch(/^Successfully tagged localhost\/built:1$/m);
    const id = r.stdout.trim().split('\n').pop()!;
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect((await sb.runCli(0, 'run', '--rm', 'built:1')).stdout).toBe('args: one two\nhello, the world\nhi there\nA\nB\n1000\n');
    const config = (await inspect('built:1')).Config;
    expect(config).toMatchObject({
      WorkingDir: '/app',
      User: '1000:1000',
      Entrypoint: ['/usr/local/bin/run.sh'],
      Cmd: ['one', 'two'],
      Labels: { 'org.example.kind': 'test image', version: '1' },
      StopSignal: 'SIGINT',
    });
    expect(config.Env).toEqual(expect.arrayContaining(['GREETING=hello', 'TARGET=the world']));
    expect(Object.keys(config.ExposedPorts).sort()).toEqual(['53/udp', '8080/tcp']);
    expect(Object.keys(config.Volumes)).toEqual(['/var/lib/thing']);
    expect(config.Healthcheck).toMatchObject({ Test: ['CMD-SHELL', 'cat /app/greeting'], Interval: 5e9, Retries: 2 });
    // Files: owned by root (COPY's default), --chmod applied, the runtime's mount points not in a layer.
    expect(await runIn('built:1', 'stat -c "%u:%g %a" /app/hello.txt /usr/local/bin/run.sh')).toBe('0:0 644\n1000:1000 750\n');
    const history = (await sb.runCli(0, 'history', '--no-trunc', '--format', '{{.CreatedBy}}', 'built:1')).stdout;
    expect(history).toMatch(/echo "\$GREETING, \$TARGET"/);
    expect(history).toMatch(/COPY --chmod=750 --chown=1000:1000 run.sh/);
    expect(await containersLeft()).toBe('');
  });

  it('reuses cached steps: an unchanged rebuild runs no container, a changed file rebuilds from its step', async () => {
    const dir = context('cached', {
      Dockerfile: `FROM ${IMG}\nWORKDIR /tmp\nRUN echo first > /first\nCOPY app.txt /app.txt\nRUN cat /app.txt > /copy\nCMD ["sh", "-c", "cat /copy"]\n`,
      'app.txt': 'version 1\n',
    });
    const first = await sb.runCli(0, 'build', '-t', 'cached', dir);
    expect(first.stdout).not.toMatch(/Using cache/);
    const since = new Date().toISOString();
    const again = await sb.runCli(0, 'build', '-t', 'cached', dir);
    expect(again.stdout.match(/--> Using cache/g)).toHaveLength(3);
    const events = (await sb.runCli(0, 'events', '--stream=false', '--since', since, '--filter', 'event=create', '--format', '{{.ID}}')).stdout;
    expect(events.trim()).toBe(''); // no build container at all
    expect(again.stdout.trim().split('\n').pop()).toBe(first.stdout.trim().split('\n').pop()); // the same image
    writeFileSync(join(dir, 'app.txt'), 'version 2\n');
    const changed = await sb.runCli(0, 'build', '-t', 'cached', dir);
    const steps = changed.stdout.split(/^STEP /m);
    expect(steps[3]).toMatch(/^3\/6: RUN echo first[\s\S]*Using cache/);
    expect(steps[4]).not.toMatch(/Using cache/);
    expect(steps[5]).not.toMatch(/Using cache/);
    expect((await sb.runCli(0, 'run', '--rm', 'cached')).stdout).toBe('version 2\n');
    // --no-cache runs every step.
    expect((await sb.runCli(0, 'build', '--no-cache', '-t', 'cached', dir)).stdout).not.toMatch(/Using cache/);
  });

  it('builds multi-stage: COPY --from a stage, --target, an unused stage skipped', async () => {
    const dir = context('stages', {
      Dockerfile: [
        `FROM ${IMG} AS builder`,
        'RUN echo built-artifact > /artifact',
        `FROM ${IMG} AS unused`,
        'RUN echo never > /never && exit 9',
        `FROM ${IMG}`,
        'COPY --from=builder /artifact /from-builder',
        'CMD ["sh", "-c", "cat /from-builder"]',
        '',
      ].join('\n'),
    });
    const r = await sb.runCli(0, 'build', '-t', 'staged', dir);
    expect(r.stdout).toMatch(/^\[1\/2\] STEP 1\/2: FROM .* AS builder$/m);
    expect(r.stdout).not.toMatch(/never/);
    expect((await sb.runCli(0, 'run', '--rm', 'staged')).stdout).toBe('built-artifact\n');
    await sb.runCli(0, 'build', '--target', 'builder', '-t', 'just-builder', dir);
    expect(await runIn('just-builder', 'cat /artifact; test -e /from-builder || echo no-final')).toBe('built-artifact\nno-final\n');
    const bad = await sb.run(['build', '--target', 'nope', dir]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/nope/);
  });

  it('leaves out what .dockerignore names, with ! exceptions', async () => {
    const dir = context('ignore', {
      Dockerfile: `FROM ${IMG}\nCOPY . /ctx/\n`,
      '.dockerignore': '# comment\nlogs\n*.tmp\n!keep.tmp\nsecret/**\n',
      'logs/a.log': 'x',
      'a.tmp': 'x',
      'keep.tmp': 'kept',
      'secret/key': 'x',
      'src/main.c': 'int main;',
    });
    await sb.runCli(0, 'build', '-t', 'ignored', dir);
    expect(await runIn('ignored', 'cd /ctx && find . -type f | sort')).toBe('./.dockerignore\n./Dockerfile\n./keep.tmp\n./src/main.c\n');
  });

  it('takes build args: defaults, --build-arg, a global ARG in FROM, not kept in the image', async () => {
    const dir = context('args', {
      Dockerfile: [
        `ARG BASE=${IMG}`,
        'FROM $BASE',
        'ARG WHO=nobody',
        'ARG UNSET',
        'RUN echo "who=$WHO unset=${UNSET:-none}" > /args',
        'ENV KEPT=${WHO}',
        '',
      ].join('\n'),
    });
    await sb.runCli(0, 'build', '-t', 'args1', dir);
    expect(await runIn('args1', 'cat /args; echo "$KEPT ${WHO:-gone}"')).toBe('who=nobody unset=none\nnobody gone\n');
    await sb.runCli(0, 'build', '--build-arg', 'WHO=me', '-t', 'args2', dir);
    expect(await runIn('args2', 'cat /args')).toBe('who=me unset=none\n');
    // A predefined proxy arg: seen by RUN without an ARG, kept out of the cache key and the image.
    const proxy = context('proxy', { Dockerfile: `FROM ${IMG}\nRUN echo "proxy=$HTTP_PROXY" > /proxy\n` });
    await sb.runCli(0, 'build', '--build-arg', 'HTTP_PROXY=http://proxy.example:3128', '-t', 'proxy', proxy);
    expect(await runIn('proxy', 'cat /proxy; echo "env=${HTTP_PROXY:-none}"')).toBe('proxy=http://proxy.example:3128\nenv=none\n');
    expect((await sb.runCli(0, 'build', '--build-arg', 'HTTP_PROXY=http://other:3128', '-t', 'proxy', proxy)).stdout).toMatch(/Using cache/);
    expect((await sb.runCli(0, 'history', '--no-trunc', '--format', '{{.CreatedBy}}', 'proxy')).stdout).not.toMatch(/proxy\.example/);
  });

  it('runs heredocs and reads the Dockerfile from standard input (-f -)', async () => {
    const dir = context('heredoc', { 'empty.txt': '' });
    const dockerfile = [
      `FROM ${IMG}`,
      'RUN <<EOF',
      'echo line one > /script-out',
      'echo line two >> /script-out',
      'EOF',
      'COPY <<EOT /etc/motd',
      'welcome',
      'EOT',
      '',
    ].join('\n');
    const stdinFile = join(sb.home, 'Dockerfile.stdin');
    writeFileSync(stdinFile, dockerfile);
    const r = await sb.run(['build', '-f', '-', '-t', 'heredoc', dir], { stdinFile });
    expect(r.code, r.stderr).toBe(0);
    expect(await runIn('heredoc', 'cat /script-out /etc/motd')).toBe('line one\nline two\nwelcome\n');
  });

  it('stops at a failing RUN with its exit code, tagging nothing and leaving no container', async () => {
    const dir = context('failing', { Dockerfile: `FROM ${IMG}\nRUN echo about to fail; exit 3\nRUN echo never\n` });
    const r = await sb.run(['build', '-t', 'failed', dir]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/about to fail/);
    expect(r.stdout).not.toMatch(/never/);
    expect(r.stderr).toMatch(/RUN echo about to fail; exit 3/);
    expect((await sb.run(['image', 'exists', 'failed'])).code).toBe(1);
    expect(await containersLeft()).toBe('');
  });

  it('reports a Dockerfile error with file and line before anything runs', async () => {
    const dir = context('syntax', { Dockerfile: `FROM ${IMG}\nRUN echo fine\nFETCH something\n` });
    const r = await sb.run(['build', dir]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/Dockerfile:3: unknown instruction: FETCH/i);
    expect(r.stdout).toBe('');
  });

  it('never reads outside the context through its symlinks', async () => {
    const dir = context('escape', { Dockerfile: `FROM ${IMG}\nCOPY link /stolen\n`, 'etc/passwd': 'context passwd\n' });
    symlinkSync('/etc/passwd', join(dir, 'link'));
    symlinkSync('/', join(dir, 'root'));
    await sb.runCli(0, 'build', '-t', 'escape', dir);
    // The absolute link resolves inside the context: its own etc/passwd, never the host's.
    expect(await runIn('escape', 'cat /stolen')).toBe('context passwd\n');
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${IMG}\nCOPY root/etc/shadow /stolen\n`);
    const r = await sb.run(['build', dir]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/root\/etc\/shadow: no such file or directory in the build context/);
  });

  it('builds two tags in parallel', async () => {
    const dirs = ['p1', 'p2'].map((n) => context(n, { Dockerfile: `FROM ${IMG}\nRUN echo ${n} > /name\n` }));
    const [a, b] = await Promise.all(dirs.map((d, i) => sb.run(['build', '-t', `par${i + 1}`, d])));
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(await runIn('par1', 'cat /name')).toBe('p1\n');
    expect(await runIn('par2', 'cat /name')).toBe('p2\n');
  });

  it('stops on SIGINT, leaving no build container and no image', async () => {
    const dir = context('interrupt', { Dockerfile: `FROM ${IMG}\nRUN echo started; sleep 60\n` });
    const child = sb.spawn(['build', '-t', 'interrupted', dir]);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await until(() => out.includes('started'), 30_000);
    child.kill('SIGINT');
    expect(await exited).not.toBe(0);
    expect((await sb.run(['image', 'exists', 'interrupted'])).code).toBe(1);
    expect(await containersLeft()).toBe('');
    expect(sb.namespaceProcesses().filter((p) => p.comm === 'sleep')).toEqual([]);
  });

  it('runs ONBUILD triggers of a base image, and takes SHELL for shell forms', async () => {
    const base = context('onbuild-base', { Dockerfile: `FROM ${IMG}\nONBUILD RUN echo triggered > /onbuild\n` });
    await sb.runCli(0, 'build', '-t', 'onbuild-base', base);
    expect((await inspect('onbuild-base')).Config.OnBuild).toEqual(['RUN echo triggered > /onbuild']);
    const child = context('onbuild-child', { Dockerfile: 'FROM onbuild-base\nSHELL ["/bin/sh", "-x", "-c"]\nRUN echo shell > /shell\n' });
    const r = await sb.runCli(0, 'build', '-t', 'onbuild-child', child);
    expect(r.stdout + r.stderr).toMatch(/\+ echo shell/); // sh -x traced it: the SHELL was used
    expect(await runIn('onbuild-child', 'cat /onbuild /shell')).toBe('triggered\nshell\n');
    expect((await inspect('onbuild-child')).Config.OnBuild ?? []).toEqual([]);
  });

  it('ADD unpacks a local tar and fetches a URL, checking --checksum', async () => {
    const dir = context('add', { 'payload/inner.txt': 'from the tar\n', 'served.txt': 'downloaded\n' });
    execFileSync('tar', ['-czf', join(dir, 'payload.tar.gz'), '-C', join(dir, 'payload'), 'inner.txt']);
    const body = 'downloaded\n';
    const server = createServer((req, res) => {
      if (req.url === '/file.txt') res.end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const good = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    try {
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${IMG}\nADD payload.tar.gz /unpacked/\nADD --checksum=${good} ${url}/file.txt /fetched/\n`);
      await sb.runCli(0, 'build', '-t', 'added', dir);
      expect(await runIn('added', 'cat /unpacked/inner.txt /fetched/file.txt')).toBe('from the tar\ndownloaded\n');
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${IMG}\nADD --checksum=sha256:${'0'.repeat(64)} ${url}/file.txt /fetched/\n`);
      const bad = await sb.run(['build', '-t', 'bad-sum', dir]);
      expect(bad.code).toBe(125);
      expect(bad.stderr).toMatch(/checksum mismatch/);
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${IMG}\nADD ${url}/missing /x\n`);
      expect((await sb.run(['build', dir])).stderr).toMatch(/the server answered 404/);
    } finally {
      server.close();
    }
  });

  it('RUN --mount: a cache kept between builds, a read-only context bind, a secret never in the image, a tmpfs', async () => {
    const dir = context('mounts', {
      'src/input.txt': 'bound\n',
      'secret.txt': 's3cret\n',
      Dockerfile: [
        `FROM ${IMG}`,
        'ARG ROUND',
        'RUN --mount=type=cache,target=/cache echo "$ROUND" >> /cache/log && cat /cache/log > /seen',
        'RUN --mount=type=bind,source=src,target=/src cat /src/input.txt > /bound && (echo x > /src/new 2>/dev/null || echo read-only >> /bound)',
        'RUN --mount=type=secret,id=token cat /run/secrets/token > /dev/null && test -s /run/secrets/token && echo had-secret > /secret-step',
        'RUN --mount=type=tmpfs,target=/scratch echo temp > /scratch/t && cat /scratch/t > /tmpfs-step',
        '',
      ].join('\n'),
    });
    const secret = ['--secret', `id=token,src=${join(dir, 'secret.txt')}`];
    await sb.runCli(0, 'build', ...secret, '--build-arg', 'ROUND=one', '-t', 'mounts', dir);
    await sb.runCli(0, 'build', ...secret, '--build-arg', 'ROUND=two', '-t', 'mounts', dir);
    expect(
      await runIn(
        'mounts',
        'cat /seen /bound /secret-step /tmpfs-step; ls /cache /scratch /src 2>/dev/null; find / -xdev -type f | xargs grep -l s3cret; true',
      ),
    ).toBe('one\ntwo\nbound\nread-only\nhad-secret\ntemp\n');
    const missing = await sb.run(['build', '--no-cache', '-t', 'mounts', dir]);
    expect(missing.code).not.toBe(0); // the secret is not required: the step's own test fails without it
  });

  it('COPY --from an image that is not a stage', async () => {
    const dir = context('from-image', { Dockerfile: `FROM ${IMG}\nCOPY --from=${IMG} /etc/passwd /copied-passwd\n` });
    await sb.runCli(0, 'build', '-t', 'from-image', dir);
    expect(await runIn('from-image', 'head -1 /copied-passwd')).toBe('root:x:0:0:root:/root:/bin/sh\n');
  });

  it('--timestamp gives the same image and digest on a rebuild; what skiff pushed, skopeo reads and skiff pulls back', async () => {
    const dir = context('reproducible', {
      Dockerfile: `FROM ${IMG}\nCOPY data.txt /data.txt\nRUN echo made > /made\nCMD ["sh", "-c", "cat /data.txt /made"]\n`,
      'data.txt': 'payload\n',
    });
    const build = async () => (await sb.runCli(0, 'build', '--no-cache', '--timestamp', '1700000000', '-q', '-t', `${plain}/built/repro:1`, dir)).stdout.trim();
    const first = await build();
    await sb.runCli(0, 'push', `${plain}/built/repro:1`, '--digestfile', join(sb.dir, 'digest1'));
    const second = await build();
    expect(second).toBe(first);
    await sb.runCli(0, 'push', `${plain}/built/repro:1`, '--digestfile', join(sb.dir, 'digest2'));
    const digest = execFileSync('cat', [join(sb.dir, 'digest1')]).toString();
    expect(execFileSync('cat', [join(sb.dir, 'digest2')]).toString()).toBe(digest);
    expect((await inspect(`${plain}/built/repro:1`)).Created).toBe('2023-11-14T22:13:20.000Z');
    // Another tool reads it (skopeo copies every blob, checking each digest), and skiff pulls it back.
    const remote = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${plain}/built/repro:1`]).toString());
    expect(remote.Digest).toBe(digest);
    // The build's layers, kept uncompressed, went out gzipped.
    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${plain}/built/repro:1`]).toString());
    expect(raw.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(raw.layers.map(() => 'application/vnd.docker.image.rootfs.diff.tar.gzip'));
    const layout = join(sb.dir, 'oci-copy');
    execFileSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${plain}/built/repro:1`, `oci:${layout}:repro`], { stdio: 'ignore' });
    await sb.runCli(0, 'rmi', `${plain}/built/repro:1`);
    expect((await sb.runCli(0, 'pull', '-q', `${plain}/built/repro:1`)).stdout.trim()).toBe(first);
    expect((await sb.runCli(0, 'run', '--rm', `${plain}/built/repro:1`)).stdout).toBe('payload\nmade\n');
  });

  it('COPY places into the image as Docker does: through its symlinks (inside it), parents keeping their modes', async () => {
    const dir = context('placement', {
      Dockerfile: `FROM ${IMG}\nRUN mkdir /real && ln -s /real /link && ln -s /etc/passwd /tmp/pw\nCOPY a.txt /link/\nCOPY a.txt /tmp/new/dir/\nCOPY a.txt /renamed.txt\nCOPY a.txt /tmp/pw\n`,
      'a.txt': 'A\n',
    });
    await sb.runCli(0, 'build', '-t', 'placement', dir);
    expect(await runIn('placement', 'cat /real/a.txt; readlink /link; stat -c %a /tmp /tmp/new; cat /renamed.txt /tmp/pw; head -1 /etc/passwd')).toBe(
      'A\n/real\n1777\n755\nA\nA\nroot:x:0:0:root:/root:/bin/sh\n',
    );
  });

  it('--squash keeps the base and makes the build one layer; --squash-all makes one layer of everything', async () => {
    const dir = context('squash', {
      Dockerfile: `FROM ${IMG}\nRUN echo one > /one && echo gone > /gone && mkdir -p /d && echo old > /d/old\nRUN rm /gone /nobody-file && rm -rf /d && mkdir /d && echo new > /d/new\nCOPY a.txt /a.txt\n`,
      'a.txt': 'A\n',
    });
    const base = (await inspect(IMG)).RootFS.Layers.length;
    await sb.runCli(0, 'build', '-t', 'layered', dir);
    expect((await inspect('layered')).RootFS.Layers).toHaveLength(base + 3);
    const check = 'cat /one /a.txt; ls /d; test -e /gone || echo no-gone; test -e /nobody-file || echo no-nobody; cat /home/www/index.html';
    const want = 'one\nA\nnew\nno-gone\nno-nobody\n<h1>skiff</h1>\n';
    await sb.runCli(0, 'build', '--squash', '-t', 'squashed', dir);
    const squashed = await inspect('squashed');
    expect(squashed.RootFS.Layers).toHaveLength(base + 1);
    expect(squashed.RootFS.Layers.slice(0, base)).toEqual((await inspect(IMG)).RootFS.Layers);
    expect(await runIn('squashed', check)).toBe(want);
    await sb.runCli(0, 'build', '--squash-all', '-t', 'squashed-all', dir);
    expect((await inspect('squashed-all')).RootFS.Layers).toHaveLength(1);
    expect(await runIn('squashed-all', check)).toBe(want);
  });

  it('--platform a single-platform base is not for: built on it, with a warning; --cache-ttl 0 uses no cache', async () => {
    const dir = context('platform', { Dockerfile: `FROM ${IMG}\nRUN echo x > /x\n` });
    // (The fixture says amd64; its binaries are this host's. See 280-build-flags for an index's pick.)
    const r = await sb.run(['build', '--platform', 'linux/s390x', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^WARNING: .*skiff\/busybox is for linux\/amd64, not linux\/s390x/m);
    const host = process.arch === 'arm64' ? 'linux/arm64' : 'linux/amd64';
    await sb.runCli(0, 'build', '--platform', host, '-t', 'ttl', dir);
    expect((await sb.runCli(0, 'build', '--cache-ttl', '1h', '-t', 'ttl', dir)).stdout).toMatch(/Using cache/);
    expect((await sb.runCli(0, 'build', '--cache-ttl', '0', '-t', 'ttl', dir)).stdout).not.toMatch(/Using cache/);
    expect((await sb.run(['build', '--cache-ttl', 'soon', dir])).stderr).toMatch(/--cache-ttl=soon: use a duration/);
  });

  it('--format oci writes an OCI manifest with --annotation; docker format warns that it leaves them out', async () => {
    const dir = context('oci', { Dockerfile: `FROM ${IMG}\nRUN echo oci > /oci\n` });
    await sb.runCli(0, 'build', '--format', 'oci', '--annotation', 'org.example.note=hello', '-t', `${plain}/built/oci:1`, dir);
    await sb.runCli(0, 'push', `${plain}/built/oci:1`);
    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${plain}/built/oci:1`]).toString());
    expect(raw.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(raw.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
    expect(raw.annotations).toEqual({ 'org.example.note': 'hello' });
    expect(raw.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(raw.layers.map(() => 'application/vnd.oci.image.layer.v1.tar+gzip'));
    const docker = await sb.run(['build', '--annotation', 'a=b', '-t', 'docker-format', dir]);
    expect(docker.code).toBe(0);
    expect(docker.stderr).toMatch(/annotations are written in OCI manifests only/);
  });

  it('--build-context names a directory for COPY --from and an image for FROM, before stages of the same name', async () => {
    const extra = context('named-extra', { 'note.txt': 'from the named context\n' });
    const dir = context('named', {
      Dockerfile: `FROM scratch AS base\nFROM base\nCOPY --from=extra note.txt /note.txt\nCMD ["sh", "-c", "cat /note.txt"]\n`,
    });
    await sb.runCli(0, 'build', '--build-context', `extra=${extra}`, '--build-context', `base=docker-image://${IMG}`, '-t', 'named', dir);
    expect((await sb.runCli(0, 'run', '--rm', 'named')).stdout).toBe('from the named context\n');
    const bad = await sb.run(['build', '--build-context', 'x=https://example.com/repo.git', dir]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/https:\/\/ contexts are not supported yet/);
  });

  it('finds a Containerfile; --ignorefile, --iidfile, COPY globs, FROM scratch, RUN --network none; image build and buildx build; save', async () => {
    const dir = context('misc', {
      Containerfile: `FROM ${IMG} AS tools\nFROM scratch\nCOPY --from=tools /bin/busybox /bin/busybox\nCOPY *.txt notes/ /docs/\nCMD ["/bin/busybox", "ls", "/docs"]\n`,
      'a.txt': 'a',
      'b.txt': 'b',
      'c.md': 'c',
      'notes/n1': 'n',
      'skip.ignore': 'notes/n1\n',
    });
    const iid = join(sb.dir, 'iid');
    await sb.runCli(0, 'build', '--ignorefile', join(dir, 'skip.ignore'), '--iidfile', iid, '-t', 'misc', dir);
    const id = execFileSync('cat', [iid]).toString();
    expect(id).toBe((await inspect('misc')).Id.replace(/^(sha256:)?/, 'sha256:'));
    expect((await sb.runCli(0, 'run', '--rm', 'misc')).stdout).toBe('a.txt\nb.txt\n');
    expect((await inspect('misc')).RootFS.Layers).toHaveLength(2); // scratch: only what the build copied
    const net = context('net', { Dockerfile: `FROM ${IMG}\nRUN --network=none ls /sys/class/net > /ifaces\n` });
    await sb.runCli(0, 'image', 'build', '-t', 'net', net);
    expect(await runIn('net', 'cat /ifaces')).toBe('lo\n');
    await sb.runCli(0, 'buildx', 'build', '--network', 'none', '-t', 'net2', net);
    await sb.runCli(0, 'save', '-o', join(sb.dir, 'misc.tar'), 'misc');
    expect(execFileSync('tar', ['-tf', join(sb.dir, 'misc.tar')]).toString()).toMatch(/manifest\.json/);
  });

  it('builds independent stages at once (--jobs), one after another with --jobs 1', async () => {
    // Each stage marks a shared cache directory and waits up to 5 s to see the other's mark.
    const wait = (me: string, other: string) =>
      `RUN --mount=type=cache,target=/c,id=jobs-$ROUND touch /c/${me}; i=0; while [ $i -lt 50 ]; do [ -e /c/${other} ] && { echo together > /r; exit 0; }; sleep 0.1; i=$((i+1)); done; echo alone > /r`;
    const dir = context('jobs', {
      Dockerfile: [
        `FROM ${IMG} AS a`,
        'ARG ROUND',
        wait('a', 'b'),
        `FROM ${IMG} AS b`,
        'ARG ROUND',
        wait('b', 'a'),
        `FROM ${IMG}`,
        'COPY --from=a /r /a',
        'COPY --from=b /r /b',
        '',
      ].join('\n'),
    });
    await sb.runCli(0, 'build', '--jobs', '2', '--build-arg', 'ROUND=1', '-t', 'jobs2', dir);
    expect(await runIn('jobs2', 'cat /a /b')).toBe('together\ntogether\n');
    await sb.runCli(0, 'build', '--jobs', '1', '--build-arg', 'ROUND=2', '-t', 'jobs1', dir);
    expect(await runIn('jobs1', 'cat /a /b')).toBe('alone\ntogether\n');
  });

  it("RUN --mount=type=bind from a stage or an image, and rw (the writes stay the step's)", async () => {
    const dir = context('bind-from', {
      'src/in.txt': 'context\n',
      Dockerfile: [
        `FROM ${IMG} AS tools`,
        'RUN mkdir /out && echo built > /out/artifact',
        `FROM ${IMG}`,
        'RUN --mount=type=bind,from=tools,source=/out,target=/tools cat /tools/artifact > /from-stage',
        `RUN --mount=type=bind,from=${IMG},source=/etc,target=/img-etc head -1 /img-etc/passwd > /from-image`,
        'RUN --mount=type=bind,source=src,target=/src,rw echo written >> /src/in.txt && cat /src/in.txt > /rw',
        '',
      ].join('\n'),
    });
    await sb.runCli(0, 'build', '-t', 'bind-from', dir);
    expect(await runIn('bind-from', 'cat /from-stage /from-image /rw')).toBe('built\nroot:x:0:0:root:/root:/bin/sh\ncontext\nwritten\n');
    expect(execFileSync('cat', [join(dir, 'src/in.txt')]).toString()).toBe('context\n'); // the context is untouched
    const since = new Date().toISOString();
    expect((await sb.runCli(0, 'build', '-t', 'bind-from', dir)).stdout.match(/Using cache/g)).toHaveLength(4);
    expect((await sb.runCli(0, 'events', '--stream=false', '--since', since, '--filter', 'event=create', '--format', '{{.ID}}')).stdout.trim()).toBe('');
  });

  it('COPY --exclude, --parents and --link; ADD unpacks an xz tar', async () => {
    const dir = context('copy-flags', {
      'src/a/one.txt': '1',
      'src/a/skip.log': 'x',
      'src/b/two.txt': '2',
      'payload/inner.txt': 'from xz\n',
      Dockerfile: [
        `FROM ${IMG}`,
        'RUN mkdir /real && ln -s /real /linked',
        'COPY --exclude=**/*.log --exclude=b src/ /ex/',
        'COPY --parents src/a/one.txt src/b /par/',
        'COPY --link src/b/two.txt /linked/two.txt',
        'ADD payload.tar.xz /xz/',
        '',
      ].join('\n'),
    });
    execFileSync('tar', ['-cJf', join(dir, 'payload.tar.xz'), '-C', join(dir, 'payload'), 'inner.txt']);
    await sb.runCli(0, 'build', '-t', 'copy-flags', dir);
    expect(
      await runIn(
        'copy-flags',
        'cd /ex && find . -type f | sort; cd /par && find . -type f | sort; test -L /linked && echo link-kept || echo link-replaced; cat /linked/two.txt; echo; cat /xz/inner.txt',
      ),
    ).toBe('./a/one.txt\n./src/a/one.txt\n./src/b/two.txt\nlink-replaced\n2\nfrom xz\n');
  });

  it('a file changed with its size and modification time kept is still seen as changed', async () => {
    const dir = context('same-stat', { Dockerfile: `FROM ${IMG}\nCOPY data.txt /data.txt\n`, 'data.txt': 'AAAA\n' });
    const file = join(dir, 'data.txt');
    const old = new Date(Date.now() - 3600_000);
    utimesSync(file, old, old); // old enough for its hash to be recorded by stat
    await sb.runCli(0, 'build', '-t', 'same-stat', dir);
    expect((await sb.runCli(0, 'build', '-t', 'same-stat', dir)).stdout).toMatch(/Using cache/);
    writeFileSync(file, 'BBBB\n');
    utimesSync(file, old, old); // same size, same mtime: only the change time tells
    expect((await sb.runCli(0, 'build', '-t', 'same-stat', dir)).stdout).not.toMatch(/Using cache/);
    expect(await runIn('same-stat', 'cat /data.txt')).toBe('BBBB\n');
  });

  it('podman pulls and runs an image skiff built and pushed', async () => {
    // FROM scratch with this host's busybox: the fixture's hostile layers (devices, a 0555 tree)
    // are not what this checks.
    const dir = context('for-podman', {
      Dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY message.txt /message.txt\nCMD ["/bin/busybox", "cat", "/message.txt"]\n',
      'message.txt': 'built by skiff\n',
    });
    execFileSync('cp', ['/bin/busybox', join(dir, 'busybox')]);
    const id = (await sb.runCli(0, 'build', '-q', '-t', `${plain}/built/for-podman:1`, dir)).stdout.trim();
    await sb.runCli(0, 'push', `${plain}/built/for-podman:1`);
    const store = join(sb.dir, 'podman');
    const podman = [
      ...['podman', '--root', join(store, 'root'), '--runroot', join(store, 'run'), '--storage-driver', 'overlay'],
      ...['--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'],
    ];
    const run = (...args: string[]) => runAsUser([...podman, ...args]);
    const pulled = await run('pull', '--tls-verify=false', '-q', `${plain}/built/for-podman:1`);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout.trim()).toBe(id);
    const ran = await run('run', '--rm', '--network', 'none', `${plain}/built/for-podman:1`);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toBe('built by skiff\n');
    await run('system', 'reset', '-f');
  });

  it('gives RUN steps -v, --add-host, --cap-drop, --dns and --ulimit, as run does; the mount is not in the image', async () => {
    const data = context('run-flags-data', { f: 'from the host\n' });
    const dir = context('run-flags', {
      Dockerfile: [
        `FROM ${IMG}`,
        'RUN cat /data/f > /vol && grep myhost /etc/hosts | cut -f1 > /hosts && grep nameserver /etc/resolv.conf > /dns && ulimit -n > /nofile \\',
        '  && touch /tmp/x && (chown 1 /tmp/x 2>/dev/null && echo chown-ok || echo chown-denied) > /cap',
        '',
      ].join('\n'),
    });
    await sb.runCli(
      0,
      'build',
      ...['-v', `${data}:/data:ro`, '--add-host', 'myhost:10.1.2.3', '--cap-drop', 'CHOWN', '--dns', '10.9.8.7', '--ulimit', 'nofile=123:456'],
      '-t',
      'run-flags',
      dir,
    );
    expect(await runIn('run-flags', 'cat /vol /hosts /dns /nofile /cap; test -e /data/f || echo no-mount-in-image')).toBe(
      'from the host\n10.1.2.3\nnameserver 10.9.8.7\n123\nchown-denied\nno-mount-in-image\n',
    );
  });
});
