// skiff build under attack: a hostile build context, Dockerfile, base image or server trying to make
// a build read outside its context, write outside the image's root on the host, read an unbounded
// document into memory, leak a secret, or leave something behind; and Docker's documented rules
// where a build could quietly get them wrong (cache keys, placement, WORKDIR, ENTRYPOINT/CMD).
// Tests marked FAILS NOW show a bug in the current code; the others guard a rule.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { testIds, until, useSandbox } from '../helpers/cli.js';
import { buildHelpers } from '../helpers/build.js';
import { makeTar } from '../helpers/layers.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const MiB = 1024 * 1024;

const sb = useSandbox('build-attacks', { pull: [IMG] });

const { context, runIn, inspect, containersLeft } = buildHelpers(sb);

// A host directory the test user may write to (so that a write that escapes would succeed), with
// one file in it: what a build must never change.
const victim = (name: string): string => {
  const dir = join(sb.dir, `victim-${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'existing'), 'original\n');
  const { uid, gid } = testIds();
  chownSync(dir, uid, gid);
  chownSync(join(dir, 'existing'), uid, gid);
  return dir;
};
const victimUntouched = (dir: string) => {
  expect(readdirSync(dir).sort()).toEqual(['existing']);
  expect(readFileSync(join(dir, 'existing'), 'utf8')).toBe('original\n');
};

const imageExists = async (name: string) => (await sb.run(['image', 'exists', name])).code === 0;
const lastLine = (text: string) => text.trim().split('\n').pop()!;

// A one-line error with exit 125, nothing run (no STEP output past the parse).
const expectRefusedUpFront = (r: { code: number; stdout: string; stderr: string }, what: RegExp) => {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(125);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(what);
  expect(r.stdout).not.toMatch(/ran-first/);
};

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

describe('a build never reads outside its context', () => {
  // Failed before the fix: BuildContext.expand drops ignored names, but open() follows a symlink (inside the
  // context) to a .dockerignore'd file: its content lands in the image. Docker never sends ignored
  // files, so the link dangles there and the COPY fails.
  it("COPY through a symlink never reaches a .dockerignore'd file", async () => {
    const dir = context('ignored-link', {
      '.dockerignore': 'secret.key\nprivate\n',
      'secret.key': 'TOPSECRET-FILE\n',
      'private/key': 'TOPSECRET-DIR\n',
      Dockerfile: `FROM ${IMG}\nCOPY link /got-file\nCOPY alias/ /got-dir/\n`,
    });
    symlinkSync('secret.key', join(dir, 'link'));
    symlinkSync('private', join(dir, 'alias'));
    const r = await sb.run(['build', '-t', 'ignored-link', dir]);
    if (r.code === 0) expect(await runIn('ignored-link', 'cat /got-file /got-dir/key 2>/dev/null; true')).not.toMatch(/TOPSECRET/);
    else expect(r.code).toBe(125);
  });

  // A bind shows a directory as it is: one holding what .dockerignore leaves out is refused (Docker
  // binds the context as sent, without those files; skiff does not copy the context to bind it).
  it("RUN --mount=type=bind never shows a .dockerignore'd file", async () => {
    const dir = context('ignored-bind', {
      '.dockerignore': 'secret.key\n',
      'secret.key': 'TOPSECRET\n',
      'ok.txt': 'fine\n',
      Dockerfile: `FROM ${IMG}\nRUN --mount=type=bind,target=/ctx cat /ctx/ok.txt > /out; (cat /ctx/secret.key 2>/dev/null || echo absent) >> /out\n`,
    });
    const r = await sb.run(['build', '-t', 'ignored-bind', dir]);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/holds secret\.key, which \.dockerignore leaves out/);
    expect(r.stdout).not.toMatch(/TOPSECRET/);
  });

  // Failed before the fix: readIgnore (builds.ts) takes its _dockerfileDir and never looks there: Docker's
  // Dockerfile-specific ignore file (<Dockerfile name>.dockerignore beside it, which takes precedence
  // over the context's .dockerignore) is not read, and what it leaves out is copied into the image.
  it('a Dockerfile-specific ignore file (NAME.dockerignore) leaves out what it names', async () => {
    const dir = context('specific-ignore', {
      'build/app.Dockerfile': `FROM ${IMG}\nCOPY . /ctx/\n`,
      'build/app.Dockerfile.dockerignore': 'secret.key\n',
      'secret.key': 'TOPSECRET\n',
      'ok.txt': 'fine\n',
    });
    await sb.runCli(0, 'build', '-f', join(dir, 'build/app.Dockerfile'), '-t', 'specific-ignore', dir);
    expect(await runIn('specific-ignore', 'cat /ctx/ok.txt; cat /ctx/secret.key 2>/dev/null || echo absent')).toBe('fine\nabsent\n');
  });

  it('RUN --mount=type=bind sources and COPY sources with .., absolute paths and symlinks stay in the context', async () => {
    const dir = context('bind-escape', {
      'etc/hostname': 'context hostname\n',
      Dockerfile: [
        `FROM ${IMG}`,
        'RUN --mount=type=bind,source=../../../etc,target=/m1 cat /m1/hostname > /out1',
        'RUN --mount=type=bind,source=/etc,target=/m2 cat /m2/hostname > /out2',
        'RUN --mount=type=bind,source=uplink/etc,target=/m3 cat /m3/hostname > /out3',
        'COPY ../../../etc/host* /copied/',
        'COPY uplink/etc/hostname /copied2',
        '',
      ].join('\n'),
    });
    symlinkSync('../../../../../../..', join(dir, 'uplink'));
    await sb.runCli(0, 'build', '-t', 'bind-escape', dir);
    expect(await runIn('bind-escape', 'cat /out1 /out2 /out3 /copied/hostname /copied2')).toBe('context hostname\n'.repeat(5));
  });
});

describe('a build never writes outside the image root', () => {
  // Failed before the fix: builds.ts copy() writes each heredoc to join(heredocDir, h.name) with the name as
  // written: `COPY <<../../../../../x` writes x five directories up, in the user's home.
  it('a COPY heredoc named ../x writes nothing outside its scratch directory', async () => {
    const escaped = join(sb.home, 'pwned-by-heredoc');
    const dir = context('heredoc-escape', {
      Dockerfile: `FROM ${IMG}\nCOPY <<../../../../../pwned-by-heredoc /dest\nwritten on the host\n../../../../../pwned-by-heredoc\n`,
    });
    const r = await sb.run(['build', '-t', 'heredoc-escape', dir]);
    expect(existsSync(escaped), `${r.code} ${r.stderr}`).toBe(false);
  });

  // Failed before the fix: downloadSource names the file decodeURIComponent(last path segment): %2F decodes to
  // "/", so ..%2F..%2Fx is written outside the download directory (build-steps.ts downloadSource).
  it('ADD of a URL whose name decodes to ../x writes nothing outside its scratch directory', async () => {
    const escaped = join(sb.home, 'pwned-by-url');
    const server = createServer((_req, res) => res.end('written on the host\n'));
    const url = await listen(server);
    try {
      const dir = context('url-escape', { Dockerfile: `FROM ${IMG}\nADD ${url}/..%2F..%2F..%2F..%2F..%2Fpwned-by-url /dest/\n` });
      const r = await sb.run(['build', '-t', 'url-escape', dir]);
      expect(existsSync(escaped), `${r.code} ${r.stderr}`).toBe(false);
    } finally {
      server.close();
    }
  });

  it('COPY into symlinks an earlier step planted (to a host path) stays in the image', async () => {
    const host = victim('copy');
    const dir = context('copy-through-links', {
      'a.txt': 'A\n',
      'tree/sub/b.txt': 'B\n',
      Dockerfile: [
        `FROM ${IMG}`,
        `RUN ln -s ${host}/existing /file-link && ln -s ${host} /dir-link && ln -s ${host}/new-file /dangling && mkdir /d && ln -s ${host} /d/sub`,
        'COPY a.txt /file-link',
        'COPY a.txt /dir-link/',
        'COPY a.txt /dangling',
        'COPY tree/ /d/',
        'COPY a.txt /dir-link/deeper/still/',
        '',
      ].join('\n'),
    });
    const r = await sb.run(['build', '-t', 'copy-links', dir]);
    victimUntouched(host);
    expect(r.code, r.stderr).toBe(0);
    // Inside the image, the links resolve inside it.
    expect(await runIn('copy-links', 'cat /file-link /dangling /d/sub/b.txt')).toBe('A\nA\nB\n');
  });

  it('COPY --from a stage never follows its symlink to a host file', async () => {
    const host = victim('from-stage');
    const dir = context('from-stage-link', {
      Dockerfile: `FROM ${IMG} AS planted\nRUN ln -s ${host}/existing /leak && ln -s ${host} /leakdir\nFROM ${IMG}\nCOPY --from=planted /leak /got\n`,
    });
    const r = await sb.run(['build', '-t', 'from-stage-link', dir]);
    if (r.code === 0) expect(await runIn('from-stage-link', 'cat /got 2>&1; true')).not.toMatch(/original/);
    else expect(r.stderr).not.toMatch(/original/);
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${IMG} AS planted\nRUN ln -s ${host} /leakdir\nFROM ${IMG}\nCOPY --from=planted /leakdir/ /gotdir/\n`);
    const r2 = await sb.run(['build', '-t', 'from-stage-link2', dir]);
    if (r2.code === 0) expect(await runIn('from-stage-link2', 'ls /gotdir; true')).not.toMatch(/existing/);
    victimUntouched(host);
  });

  it('a RUN heredoc script named ../x is mounted inside the container, never on the host', async () => {
    const host = victim('script');
    const up = '../'.repeat(12);
    const name = `${up}${host.slice(1)}/script`;
    const dir = context('script-escape', { Dockerfile: `FROM ${IMG}\nRUN <<${name}\n#!/bin/sh\necho from-script > /ran\n${name}\n` });
    const r = await sb.run(['build', '-t', 'script-escape', dir]);
    // (It may run or fail; a mount point or the script itself must not appear on the host.)
    void r;
    victimUntouched(host);
  });

  it('ADD of a hostile tar (.., absolute, symlink then file, hardlinks out, devices) writes nothing on the host', async () => {
    const host = victim('add');
    const tars: Record<string, Parameters<typeof makeTar>[0]> = {
      dotdot: [{ path: `../../../../../../../../..${host}/dotdot`, content: 'x' }],
      absolute: [{ path: `${host}/absolute`, content: 'x' }],
      'symlink-then-file': [
        { path: 'lnk', type: 'symlink', target: host },
        { path: 'lnk/through-link', content: 'x' },
      ],
      'symlink-dotdot': [
        { path: 'up', type: 'symlink', target: '../../../../../../../../..' },
        { path: `up${host}/through-dotdot-link`, content: 'x' },
      ],
      'hardlink-abs': [{ path: 'hl', type: 'link', target: `${host}/existing` }],
      'hardlink-dotdot': [{ path: 'hl', type: 'link', target: `../../../../../../../../..${host}/existing` }],
      'char-device': [{ path: 'null', type: 'character-device', devmajor: 1, devminor: 3 }],
      'block-device': [{ path: 'disk', type: 'block-device', devmajor: 8, devminor: 0 }],
    };
    const files: Record<string, Buffer | string> = {};
    for (const [name, entries] of Object.entries(tars)) files[`${name}.tar`] = await makeTar(entries);
    const dir = context('add-hostile', files);
    for (const name of Object.keys(tars)) {
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${IMG}\nRUN mkdir /unpack && ln -s ${host} /unpack/lnk\nADD ${name}.tar /unpack/\n`);
      const r = await sb.run(['build', '-t', `add-${name}`, dir]);
      victimUntouched(host);
      if (r.code !== 0) {
        expect(r.code, `${name}: ${r.stderr}`).toBe(125);
        expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
        expect(await imageExists(`add-${name}`)).toBe(false);
      } else if (name.endsWith('device')) {
        // Never a working device node in the image.
        expect(
          await runIn(`add-${name}`, 'ls -la /unpack; for f in /unpack/null /unpack/disk; do test -b $f -o -c $f && echo device $f; done; true'),
        ).not.toMatch(/device \//);
      }
    }
    expect(await containersLeft()).toBe('');
  });
});

describe('secrets never end up in the image', () => {
  it('a secret as a file and as an environment variable is in no layer, config or history', async () => {
    const dir = context('secrets', {
      'secret.txt': 'S3CRET-VALUE\n',
      Dockerfile: [
        `FROM ${IMG}`,
        'RUN --mount=type=secret,id=tok,env=TOK test -n "$TOK" && echo "$TOK" | wc -c > /env-len',
        'RUN --mount=type=secret,id=tok,target=/deep/dir/tok cat /deep/dir/tok | wc -c > /file-len',
        'RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /default-count',
        '',
      ].join('\n'),
    });
    await sb.runCli(0, 'build', '--secret', `id=tok,src=${join(dir, 'secret.txt')}`, '-t', 'secrets', dir);
    expect(
      await runIn(
        'secrets',
        'cat /env-len /file-len /default-count; find / -xdev -name tok; find / -xdev -type f | xargs grep -l S3CRET; env | grep S3CRET; true',
      ),
    ).toBe(
      '14\n13\n13\n', // the value as the file has it (its newline), then echo's
    );
    expect((await sb.runCli(0, 'image', 'inspect', 'secrets')).stdout).not.toMatch(/S3CRET/);
    expect((await sb.runCli(0, 'history', '--no-trunc', 'secrets')).stdout).not.toMatch(/S3CRET/);
  });
});

describe('every document read into memory has a bound', () => {
  let baselineKiB = 0;
  const build = async (name: string, args: string[], options: { stdinFile?: string } = {}) => {
    const out = join(sb.dir, `time-${name}`);
    const r = await sb.run(['build', ...args], { wrapper: ['/usr/bin/time', '-f', '%M', '-o', out], timeoutMs: 60_000, ...options });
    return { ...r, peakKiB: Number(readFileSync(out, 'utf8').trim().split('\n').at(-1)) };
  };
  const sparse = (path: string, size: number) => {
    writeFileSync(path, '');
    truncateSync(path, size);
  };
  const expectBounded = (r: { code: number; stderr: string; peakKiB: number }, what: RegExp) => {
    console.log(`peak RSS ${Math.round(r.peakKiB / 1024)} MiB (baseline ${Math.round(baselineKiB / 1024)} MiB): ${r.stderr.trim()}`);
    expect(r.code, r.stderr).toBe(125);
    expect(r.stderr).toMatch(what);
    expect(r.peakKiB - baselineKiB).toBeLessThan(40 * 1024);
  };

  // The baseline: a build that fails at once (no Dockerfile).
  beforeAll(async () => {
    const dir = context('no-dockerfile', {});
    const r = await build('baseline', [dir]);
    expect(r.code).toBe(125);
    baselineKiB = r.peakKiB;
  });

  // Failed before the fix: readDockerfile reads the whole file (readFileSync) before bounded() looks at its length.
  it('a 200 MiB Dockerfile is refused without being read whole', async () => {
    const dir = context('huge-dockerfile', {});
    sparse(join(dir, 'Dockerfile'), 200 * MiB);
    expectBounded(await build('huge-dockerfile', [dir]), /Dockerfile/);
  });

  // Failed before the fix: the same for .dockerignore (readIgnore).
  it('a 200 MiB .dockerignore is refused without being read whole', async () => {
    const dir = context('huge-ignore', { Dockerfile: `FROM ${IMG}\n` });
    sparse(join(dir, '.dockerignore'), 200 * MiB);
    expectBounded(await build('huge-ignore', [dir]), /dockerignore/);
  });

  // Failed before the fix: -f - is readFileSync(0) in the CLI, whole, before the engine's bound.
  it('a 200 MiB Dockerfile on standard input (-f -) is refused without being read whole', async () => {
    const dir = context('huge-stdin', {});
    const stdinFile = join(sb.dir, 'huge-stdin');
    sparse(stdinFile, 200 * MiB);
    expectBounded(await build('huge-stdin', ['-f', '-', dir], { stdinFile }), /Dockerfile/);
  });

  // Failed before the fix: runMounts reads a secret for env= with readFileSync, whole, then compares its size.
  it('a 200 MiB secret given as an environment variable is refused without being read whole', async () => {
    const dir = context('huge-secret', { Dockerfile: `FROM ${IMG}\nRUN --mount=type=secret,id=big,env=BIG true\n` });
    const secret = join(sb.dir, 'huge-secret');
    sparse(secret, 200 * MiB);
    expectBounded(await build('huge-secret', ['--secret', `id=big,src=${secret}`, dir]), /secret/);
  });
});

describe('a failed or interrupted build leaves nothing behind and tags nothing', () => {
  // Failed before the fix: only RUN listens to the abort signal (builds.ts run()); the CLI catches SIGINT, so an
  // interrupt during a download (or a COPY, a pull) is ignored: the build goes on and tags the image.
  it('SIGINT during an ADD download stops the build', async () => {
    let requested = false;
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const server = createServer((_req, res) => {
      requested = true;
      void held.then(() => res.end('late body\n'));
    });
    const url = await listen(server);
    try {
      const dir = context('interrupt-add', { Dockerfile: `FROM ${IMG}\nADD ${url}/slow.txt /slow.txt\nLABEL done=yes\n` });
      const child = sb.spawn(['build', '-t', 'interrupted-add', dir]);
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await until(() => requested, 30_000);
      child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 500));
      release();
      const code = await exited;
      expect(code, out).not.toBe(0);
      expect(await imageExists('interrupted-add')).toBe(false);
      expect(await containersLeft()).toBe('');
    } finally {
      release();
      server.close();
    }
  });

  it('a RUN that leaves a process in the background leaves no process behind', async () => {
    const dir = context('background', { Dockerfile: `FROM ${IMG}\nRUN sleep 1000 > /dev/null 2>&1 &\n` });
    await sb.runCli(0, 'build', '-t', 'background', dir);
    expect(sb.namespaceProcesses().filter((p) => p.comm === 'sleep')).toEqual([]);
  });

  // (A build container's root is mounted in the pause process's mount namespace while a step runs,
  // so this sees one left mounted.)
  it('after every failure above: no build container, no mounted root, no scratch file', async () => {
    expect(await containersLeft()).toBe('');
    const mounts = readFileSync(`/proc/${sb.pausePid()}/mountinfo`, 'utf8')
      .split('\n')
      .filter((l) => l.includes(sb.dataDir));
    expect(mounts).toEqual([]);
    const tmp = join(sb.dataDir, 'tmp');
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
  });
});

describe('a bad input is a one-line error, exit 125, before anything runs', () => {
  // Failed before the fix: parseSecrets only resolves the path; a missing file is never checked (the secret is
  // mounted only by a RUN that asks for it), so the build runs (and here succeeds). Podman refuses it.
  it('--secret naming a file that is not there', async () => {
    const dir = context('bad-secret', { Dockerfile: `FROM ${IMG}\nRUN echo ran-first\n` });
    expectRefusedUpFront(await sb.run(['build', '--secret', `id=tok,src=${join(sb.dir, 'no-such-secret')}`, dir]), /no-such-secret/);
  });

  // Failed before the fix: mount targets, unsupported mount types and bind from= are checked in runMounts, when
  // the step runs, after the steps before it ran; BuildKit checks them when it reads the Dockerfile.
  it('RUN --mount=type=cache without a target, after another RUN', async () => {
    const dir = context('bad-mount', { Dockerfile: `FROM ${IMG}\nRUN echo ran-first\nRUN --mount=type=cache,id=c true\n` });
    expectRefusedUpFront(await sb.run(['build', dir]), /target/);
  });

  // Failed before the fix: the same (runMounts' default case).
  it('RUN --mount=type=ssh (not supported), after another RUN', async () => {
    const dir = context('bad-mount-ssh', { Dockerfile: `FROM ${IMG}\nRUN echo ran-first\nRUN --mount=type=ssh true\n` });
    expectRefusedUpFront(await sb.run(['build', dir]), /ssh/);
  });

  // Failed before the fix: --chmod is parsed in planCopy/copyIntoRoot, when the COPY runs.
  it('COPY --chmod=999, after a RUN', async () => {
    const dir = context('bad-chmod', { 'a.txt': 'A\n', Dockerfile: `FROM ${IMG}\nRUN echo ran-first\nCOPY --chmod=999 a.txt /a.txt\n` });
    expectRefusedUpFront(await sb.run(['build', dir]), /chmod/);
  });

  it('a malformed tag, a missing --build-arg-file, a bad --pull', async () => {
    const dir = context('bad-flags', { Dockerfile: `FROM ${IMG}\nRUN echo ran-first\n` });
    expectRefusedUpFront(await sb.run(['build', '-t', 'Bad Tag!', dir]), /Bad Tag!/);
    expectRefusedUpFront(await sb.run(['build', '--build-arg-file', join(sb.dir, 'no-such-args'), dir]), /no-such-args/);
    expectRefusedUpFront(await sb.run(['build', '--pull=sometimes', dir]), /sometimes/);
  });
});

describe('cache keys: a change that matters rebuilds, one that does not is a hit', () => {
  const steps = (stdout: string) => stdout.split(/^STEP /m).slice(1);

  // Failed before the fix: a RUN's key is stepKey(parent, ins.text, env, mounts) and ins.text is only the
  // `RUN <<EOF` line: the heredoc's body is not in the key, so a changed script is a cache hit.
  it('a changed RUN heredoc body rebuilds the step', async () => {
    const dir = context('cache-heredoc', { Dockerfile: `FROM ${IMG}\nRUN <<EOF\necho one > /out\nEOF\n` });
    await sb.runCli(0, 'build', '-t', 'cache-heredoc', dir);
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${IMG}\nRUN <<EOF\necho two > /out\nEOF\n`);
    await sb.runCli(0, 'build', '-t', 'cache-heredoc', dir);
    expect(await runIn('cache-heredoc', 'cat /out')).toBe('two\n');
  });

  // Failed before the fix: --timestamp is in no key (steps, nor finish()'s result key), so a build with
  // --timestamp after one without takes the cached image with the first build's times.
  it('--timestamp gives the image it promises even when the steps are cached', async () => {
    const dir = context('cache-timestamp', { Dockerfile: `FROM ${IMG}\nRUN echo x > /x\n` });
    await sb.runCli(0, 'build', '-t', 'cache-ts', dir);
    const r = await sb.runCli(0, 'build', '--timestamp', '1700000000', '-q', '-t', 'cache-ts', dir);
    expect((await inspect('cache-ts')).Created).toBe('2023-11-14T22:13:20.000Z');
    const fresh = await sb.runCli(0, 'build', '--no-cache', '--timestamp', '1700000000', '-q', '-t', 'cache-ts-fresh', dir);
    expect(lastLine(r.stdout)).toBe(lastLine(fresh.stdout));
  });

  it('a changed file mode, .dockerignore, symlink target or bind source rebuilds; an ignored file does not', async () => {
    const dir = context('cache-keys', {
      '.dockerignore': 'ignored.txt\n',
      'app/run.sh': 'echo hi\n',
      'app/ignored.txt': 'v1\n',
      'ignored.txt': 'v1\n',
      'bound/data': 'v1\n',
      Dockerfile: `FROM ${IMG}\nCOPY app/ /app/\nRUN --mount=type=bind,source=bound,target=/b cat /b/data > /bound\n`,
    });
    symlinkSync('run.sh', join(dir, 'app/link'));
    const build = async () => steps((await sb.runCli(0, 'build', '-t', 'cache-keys', dir)).stdout);
    await build();
    // An ignored file changes: both steps are hits.
    writeFileSync(join(dir, 'ignored.txt'), 'v2\n');
    for (const s of (await build()).slice(1)) expect(s).toMatch(/Using cache/);
    // The mode of a copied file.
    execFileSync('chmod', ['755', join(dir, 'app/run.sh')]);
    expect((await build())[1]).not.toMatch(/Using cache/);
    expect(await runIn('cache-keys', 'stat -c %a /app/run.sh')).toBe('755\n');
    // A symlink's target.
    rmSync(join(dir, 'app/link'));
    symlinkSync('ignored.txt', join(dir, 'app/link'));
    expect((await build())[1]).not.toMatch(/Using cache/);
    // The .dockerignore (app/ignored.txt now copied).
    writeFileSync(join(dir, '.dockerignore'), 'app/ignored.txt\n');
    expect((await build())[1]).not.toMatch(/Using cache/);
    expect(await runIn('cache-keys', 'ls /app')).toBe('link\nrun.sh\n');
    // What a bind mount shows.
    writeFileSync(join(dir, 'bound/data'), 'v2\n');
    const last = await build();
    expect(last[1]).toMatch(/Using cache/);
    expect(last[2]).not.toMatch(/Using cache/);
    expect(await runIn('cache-keys', 'cat /bound')).toBe('v2\n');
  });
});

describe("Docker's documented rules", () => {
  // Failed before the fix: applyMetadata (image-config.ts, case 'entrypoint') always deletes Cmd. Docker drops
  // only a CMD inherited from the base image, not one the same stage set before the ENTRYPOINT.
  it('ENTRYPOINT after a CMD of the same stage keeps that CMD', async () => {
    const dir = context('entrypoint-cmd', { Dockerfile: `FROM ${IMG}\nCMD ["hello from cmd"]\nENTRYPOINT ["/bin/busybox", "echo"]\n` });
    await sb.runCli(0, 'build', '-t', 'entrypoint-cmd', dir);
    expect((await inspect('entrypoint-cmd')).Config.Cmd).toEqual(['hello from cmd']);
    expect((await sb.runCli(0, 'run', '--rm', 'entrypoint-cmd')).stdout).toBe('hello from cmd\n');
  });

  // Failed before the fix: WORKDIR is only metadata (applyMetadata); Docker creates the directory in the image.
  it('WORKDIR makes its directory in the image', async () => {
    const dir = context('workdir-made', { Dockerfile: `FROM ${IMG}\nWORKDIR /made/by/workdir\n` });
    await sb.runCli(0, 'build', '-t', 'workdir-made', dir);
    expect((await sb.runCli(0, 'run', '--rm', '--workdir', '/', 'workdir-made', 'sh', '-c', 'test -d /made/by/workdir && echo yes || echo no')).stdout).toBe(
      'yes\n',
    );
  });

  // Failed before the fix: COPY --exclude is parsed (steps.ts typeCopy: excludes) and then never used: files the
  // Dockerfile says to leave out are copied.
  it('COPY --exclude leaves out what it names', async () => {
    const dir = context('copy-exclude', { 'src/a.txt': 'A\n', 'src/b.secret': 'S\n', Dockerfile: `FROM ${IMG}\nCOPY --exclude=*.secret src/ /dst/\n` });
    const r = await sb.run(['build', '-t', 'copy-exclude', dir]);
    if (r.code === 0) expect(await runIn('copy-exclude', 'ls /dst')).toBe('a.txt\n');
    else expect(r.code, r.stderr).toBe(125); // refused as unsupported: also acceptable
  });

  // Failed before the fix: COPY --parents is parsed (steps.ts typeCopy: parents) and ignored: the file lands as
  // /dst/file instead of /dst/a/b/file.
  it('COPY --parents keeps the source path', async () => {
    const dir = context('copy-parents', { 'a/b/file': 'F\n', Dockerfile: `FROM ${IMG}\nCOPY --parents a/b/file /dst/\n` });
    const r = await sb.run(['build', '-t', 'copy-parents', dir]);
    if (r.code === 0) expect(await runIn('copy-parents', 'cat /dst/a/b/file')).toBe('F\n');
    else expect(r.code, r.stderr).toBe(125);
  });

  // Failed before the fix: planCopy keeps the destination's missing components as written, so the layer's tar
  // holds "missing/../x.txt" and the unpacker refuses it; Docker cleans the path (path.Join) to /x.txt.
  it('COPY to a destination with .. in it places as the cleaned path', async () => {
    const dir = context('copy-dotdot-dest', { 'a.txt': 'A\n', Dockerfile: `FROM ${IMG}\nCOPY a.txt /missing/../x.txt\nCOPY a.txt /etc/../y/\n` });
    await sb.runCli(0, 'build', '-t', 'copy-dotdot-dest', dir);
    expect(await runIn('copy-dotdot-dest', 'cat /x.txt /y/a.txt')).toBe('A\nA\n');
  });

  // Failed before the fix: planCopy's resolveInside (build-steps.ts) cuts readlink(/proc/self/fd/N), a canonical
  // path, at the length of the mount point's path as skiff spelled it: when the store is reached
  // through a symlink (Fedora Atomic's /home -> var/home, a linked XDG_DATA_HOME) the two differ and
  // every COPY fails ("/c: No such file or directory") or, with other lengths, lands at a garbled path.
  it('COPY places files right when the store is reached through a symlink', async () => {
    const link = join(sb.home, 'share-via-link');
    if (!existsSync(link)) symlinkSync(join(sb.home, '.local/share'), link);
    const dir = context('store-link', { 'a.txt': 'A\n', Dockerfile: `FROM ${IMG}\nCOPY a.txt /etc/placed.txt\n` });
    const r = await sb.run(['build', '--no-cache', '-t', 'store-link', dir], { env: { XDG_DATA_HOME: link } });
    expect(r.code, r.stderr).toBe(0);
    expect(await runIn('store-link', 'cat /etc/placed.txt')).toBe('A\n');
  });
});

describe('COPY into a dangling symlink', () => {
  it("makes the link's target inside the image, as Docker does: the link stays a link", async () => {
    const dir = context('copy-dangling', {
      'a.txt': 'A\n',
      Dockerfile: `FROM ${IMG}\nRUN ln -s /made/by/copy /dir-link && ln -s ../../etc/outside /tmp/up-link\nCOPY a.txt /dir-link/\nCOPY a.txt /tmp/up-link/\n`,
    });
    await sb.runCli(0, 'build', '-t', 'copy-dangling', dir);
    expect(await runIn('copy-dangling', 'readlink /dir-link; cat /made/by/copy/a.txt /etc/outside/a.txt')).toBe('/made/by/copy\nA\nA\n');
  });
});
