// Bad input and unfriendly registries: every failure is one clear line, exit 125, nothing stored.
import { createServer, request as httpRequest, type Server } from 'node:http';
import { chownSync, mkdirSync, readFileSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSandbox, testIds, useSandbox } from '../helpers/cli.js';
import { NO_SUBID_USER } from '../helpers/user.js';
import * as zlib from 'node:zlib';
import { buildImage, freePort, pushImage, startRegistry, type Registry } from '../helpers/registry.js';
import { fixed, startHostileRegistry, type HostileRegistry } from '../helpers/hostile-registry.js';
import { makeTar, sha256 } from '../helpers/layers.js';
import { storeContents } from '../helpers/store.js';

const plain = inject('plainRegistry');
const basic = inject('basicRegistry');
const token = inject('tokenRegistry');

const sb = useSandbox('errors');

// The last stderr line must be the one error line.
const errorLine = (stderr: string): string => stderr.trim().split('\n').at(-1)!;

const expectNothingStored = () => expect(storeContents(sb.dataDir)).toMatchObject({ images: [], layers: [], partial: [] });

describe('bad references and unknown images', () => {
  it.each([
    ['Busybox', /invalid reference "Busybox": repository names must be lowercase/],
    ['busybox@sha256:1234', /is not a digest|has 64 hex digits/],
    ['busybox:bad!tag', /"bad!tag" is not a valid tag/],
    ['a//b', /not a valid repository name/],
  ])('rejects %s', async (ref, message) => {
    const { stderr } = await sb.runCli(125, 'pull', ref);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });

  it('reports an unknown tag and an unknown repository', async () => {
    const tag = await sb.runCli(125, 'pull', `${plain}/skiff/busybox:nope`);
    expect(errorLine(tag.stderr)).toMatch(/skiff\/busybox:nope: manifest unknown/);
    const repo = await sb.runCli(125, 'pull', `${plain}/skiff/nothing-here`);
    expect(errorLine(repo.stderr)).toMatch(/manifest unknown/);
    expectNothingStored();
  });

  it('fails in bounded time on an unreachable registry', async () => {
    const port = await freePort();
    const started = Date.now();
    const { stderr } = await sb.runCli(125, 'pull', `127.0.0.1:${port}/x/y`);
    expect(errorLine(stderr)).toMatch(new RegExp(`^Error: cannot reach registry 127.0.0.1:${port}: .*ECONNREFUSED`));
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('reports a local image that does not exist', async () => {
    const { stderr } = await sb.runCli(125, 'image', 'inspect', 'nosuchimage');
    expect(stderr).toBe('Error: nosuchimage: image not known\n');
  });
});

describe('names too long for a registry', () => {
  it('refuses a repository name over 255 characters before any request', async () => {
    const reg = await startHostileRegistry();
    try {
      const name = `${reg.host}/${'a'.repeat(256 - reg.host.length - 1)}`;
      const { stderr } = await sb.runCli(125, 'pull', name);
      expect(stderr).toBe(
        `Error: invalid reference "${name}": the repository name (${reg.host}/…) is 256 characters long, registry included; at most 255 are allowed\n`,
      );
      expect(reg.hits(`/v2/${name.slice(reg.host.length + 1)}/manifests/latest`)).toBe(0);
      expectNothingStored();
    } finally {
      await reg.stop();
    }
  });
});

describe('layer compression', () => {
  it('pulls a zstd layer where Node can decompress it, and says which Node it needs where not', async () => {
    const compress = (zlib as unknown as { zstdCompressSync?: (b: Buffer) => Buffer }).zstdCompressSync;
    const tar = await makeTar([{ path: 'z', content: 'zstd\n' }]);
    const blob = compress ? compress(tar) : Buffer.from('zstd bytes this Node cannot read');
    const image = buildImage([{ tar, gz: blob, diffId: sha256(tar), digest: sha256(blob) }], { format: 'oci' });
    const manifest = JSON.parse(image.manifest.toString());
    manifest.layers[0].mediaType = 'application/vnd.oci.image.layer.v1.tar+zstd';
    const body = Buffer.from(JSON.stringify(manifest));
    await pushImage(plain, 'skiff/zstd', 'latest', { ...image, manifest: body, manifestDigest: sha256(body) });
    if (compress) {
      await sb.runCli(0, 'pull', `${plain}/skiff/zstd`);
      await sb.runCli(0, 'rmi', `${plain}/skiff/zstd`);
    } else {
      const { stderr } = await sb.runCli(125, 'pull', `${plain}/skiff/zstd`);
      expect(errorLine(stderr)).toMatch(/zstd layers need Node\.js 22\.15 or newer \(this is v/);
    }
    expectNothingStored();
  });
});

describe('media types', () => {
  let hostile: HostileRegistry;
  beforeAll(async () => {
    hostile = await startHostileRegistry();
  });
  afterAll(() => hostile.stop());
  const d = (c: string) => `sha256:${c.repeat(64)}`;
  const manifest = (layerType: string, mediaType?: string) =>
    JSON.stringify({
      schemaVersion: 2,
      ...(mediaType ? { mediaType } : {}),
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d('c'), size: 10 },
      layers: [{ mediaType: layerType, digest: d('1'), size: 10 }],
    });

  it('refuses a layer of an unknown media type by name, before fetching anything of the image', async () => {
    const type = 'application/vnd.oci.image.layer.v1.tar+lz4';
    hostile.route(
      '/v2/odd/layer/manifests/latest',
      fixed(manifest(type, 'application/vnd.oci.image.manifest.v1+json'), { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }),
    );
    const { stderr } = await sb.runCli(125, 'pull', `${hostile.host}/odd/layer`);
    expect(errorLine(stderr)).toBe(
      `Error: unsupported layer media type "${type}" (layer ${d('1')}): skiff unpacks OCI and Docker tar layers, uncompressed, gzip or zstd`,
    );
    expect(hostile.hits(`/v2/odd/layer/blobs/${d('1')}`) + hostile.hits(`/v2/odd/layer/blobs/${d('c')}`)).toBe(0);
    expectNothingStored();
  });

  it('refuses a manifest of an unknown media type by name, whether the body or the Content-Type says it', async () => {
    const type = 'application/vnd.example.manifest.v1+json';
    const gzip = 'application/vnd.oci.image.layer.v1.tar+gzip';
    hostile.route('/v2/odd/header/manifests/latest', fixed(manifest(gzip), { 'content-type': type }));
    hostile.route('/v2/odd/body/manifests/latest', fixed(manifest(gzip, type), { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }));
    for (const name of ['odd/header', 'odd/body']) {
      const { stderr } = await sb.runCli(125, 'pull', `${hostile.host}/${name}`);
      expect(errorLine(stderr)).toBe(`Error: unsupported manifest media type "${type}": skiff pulls OCI and Docker (schema 2) images and indexes`);
      expect(hostile.hits(`/v2/${name}/blobs/${d('c')}`)).toBe(0);
    }
    expectNothingStored();
  });
});

describe('authentication', () => {
  it('asks for skiff login on a basic-auth registry without credentials', async () => {
    const { stderr } = await sb.runCli(125, 'pull', `${basic}/private/busybox`);
    expect(errorLine(stderr)).toMatch(/authentication required .*run `skiff login 127.0.0.1:\d+`/);
    expectNothingStored();
  });

  it('pulls with --creds, refuses wrong ones', async () => {
    const bad = await sb.runCli(125, 'pull', '--creds', 'tester:wrong', `${basic}/private/busybox`);
    expect(errorLine(bad.stderr)).toMatch(/authentication required|skiff login/);
    await sb.runCli(0, 'pull', '-q', '--creds', 'tester:secret', `${basic}/private/busybox`);
    await sb.runCli(0, 'rmi', `${basic}/private/busybox`);
  });

  it('logs in (auth.json 0600), pulls, and logs out', async () => {
    const wrong = await sb.runCli(125, 'login', '-u', 'tester', '-p', 'wrong', basic);
    expect(errorLine(wrong.stderr)).toMatch(/authentication required/);
    const login = await sb.run(['login', '-u', 'tester', '--password-stdin', basic], { input: 'secret\n' });
    expect(login).toMatchObject({ code: 0, stdout: 'Login Succeeded!\n' });
    const authFile = join(sb.dir, 'run', 'containers', 'auth.json');
    expect(statSync(authFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(authFile, 'utf8')).auths[basic].auth).toBe(Buffer.from('tester:secret').toString('base64'));
    await sb.runCli(0, 'pull', '-q', `${basic}/private/busybox`);
    await sb.runCli(0, 'logout', basic);
    await sb.runCli(125, 'pull', `${basic}/private/busybox:other`);
    await sb.runCli(0, 'rmi', `${basic}/private/busybox`);
  });

  it('gets bearer tokens from a token service, anonymously refused', async () => {
    const anon = await sb.runCli(125, 'pull', `${token}/private/busybox`);
    expect(errorLine(anon.stderr)).toMatch(/skiff login/);
    await sb.runCli(0, 'pull', '-q', '--creds', 'tester:secret', `${token}/private/busybox`);
    await sb.runCli(0, 'rmi', `${token}/private/busybox`);
  });

  it('reads ~/.docker/config.json', async () => {
    const dockerDir = join(sb.home, '.docker');
    mkdirSync(dockerDir, { recursive: true });
    writeFileSync(join(dockerDir, 'config.json'), JSON.stringify({ auths: { [token]: { auth: Buffer.from('tester:secret').toString('base64') } } }));
    const { uid, gid } = testIds();
    chownSync(dockerDir, uid, gid);
    chownSync(join(dockerDir, 'config.json'), uid, gid);
    await sb.runCli(0, 'pull', '-q', `${token}/private/busybox`);
    await sb.runCli(0, 'rmi', `${token}/private/busybox`);
  });
});

describe('unfriendly registries', () => {
  let server: Server;
  let host: string;
  let mode: { status: number; remaining: number } = { status: 503, remaining: 0 };
  let seen = 0;

  beforeAll(async () => {
    // A front that answers with `mode.status` a number of times, then proxies to the real registry.
    const port = await freePort();
    server = createServer((req, res) => {
      seen++;
      if (mode.remaining > 0) {
        mode.remaining--;
        res.writeHead(mode.status, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'go away' }] }));
        return;
      }
      const [h, p] = plain.split(':');
      const upstream = httpRequest({ host: h, port: Number(p), path: req.url, method: req.method, headers: { ...req.headers, host: plain } }, (up) => {
        res.writeHead(up.statusCode!, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    host = `127.0.0.1:${port}`;
  });
  afterAll(() => server.close());

  it('retries 503 with backoff and succeeds', async () => {
    mode = { status: 503, remaining: 2 };
    seen = 0;
    await sb.runCli(0, 'pull', '-q', `${host}/skiff/busybox`);
    expect(seen).toBeGreaterThan(2);
    await sb.runCli(0, 'rmi', `${host}/skiff/busybox`);
  });

  it('gives up on a registry that keeps answering 429', async () => {
    mode = { status: 429, remaining: 1000 };
    const { stderr } = await sb.runCli(125, 'pull', `${host}/skiff/busybox`);
    expect(errorLine(stderr)).toMatch(/registry 127.0.0.1:\d+ answered 429 .* after 4 attempts/);
    expectNothingStored();
  });

  it('explains a 403', async () => {
    mode = { status: 403, remaining: 1000 };
    const { stderr } = await sb.runCli(125, 'pull', `${host}/skiff/busybox`);
    expect(errorLine(stderr)).toMatch(/access denied to .*DENIED: go away.*skiff login/);
  });
});

describe('TLS', () => {
  let tls: Registry;
  beforeAll(async () => {
    tls = await startRegistry({ tls: true });
  });
  afterAll(async () => {
    await tls.stop();
  });
  // The registry is empty: "manifest unknown" shows the TLS handshake went through.
  it('verifies certificates, and --tls-verify=false or a certs.d CA lets the pull through', async () => {
    const strict = await sb.runCli(125, 'pull', `${tls.host}/skiff/none`);
    expect(errorLine(strict.stderr)).toMatch(/TLS verification failed for registry 127.0.0.1:\d+ .*--tls-verify=false/);
    const loose = await sb.runCli(125, 'pull', '--tls-verify=false', `${tls.host}/skiff/none`);
    expect(errorLine(loose.stderr)).toMatch(/manifest unknown/);
    const certs = join(sb.home, '.config', 'skiff', 'certs.d', tls.host);
    mkdirSync(certs, { recursive: true });
    copyFileSync(tls.caFile!, join(certs, 'ca.crt'));
    const { uid, gid } = testIds();
    for (const d of ['.config', '.config/skiff', '.config/skiff/certs.d', `.config/skiff/certs.d/${tls.host}`, `.config/skiff/certs.d/${tls.host}/ca.crt`])
      chownSync(join(sb.home, d), uid, gid);
    const trusted = await sb.runCli(125, 'pull', `${tls.host}/skiff/none`);
    expect(errorLine(trusted.stderr)).toMatch(/manifest unknown/);
  });
});

describe('user namespace set-up', () => {
  it('pulls in single-uid mode, with every file owned by the user', async () => {
    const single = createSandbox('single');
    try {
      const conf = join(single.home, 'skiff.conf');
      writeFileSync(conf, '[storage]\nuserns = "single"\n');
      const result = await single.run(['pull', '-q', `${plain}/skiff/busybox`], { env: { SKIFF_CONFIG: conf } });
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const layers = storeContents(single.dataDir).layers;
      const { uid } = testIds();
      const owners = layers.map((l) => statSync(join(single.dataDir, 'layers', l, 'diff')).uid);
      expect(new Set(owners)).toEqual(new Set([uid]));
      expect(
        statSync(
          join(
            single.dataDir,
            'layers',
            layers.find((l) => {
              try {
                statSync(join(single.dataDir, 'layers', l, 'diff/home/www/index.html'));
                return true;
              } catch {
                return false;
              }
            })!,
            'diff/home/www/index.html',
          ),
        ).uid,
      ).toBe(uid);
    } finally {
      await single.cleanup();
    }
  });

  // Needs a second account without /etc/subuid entries, which only root can make (CI runs as root).
  it.runIf(process.getuid?.() === 0)('tells a user without a subuid range what to do', async () => {
    const single = createSandbox('nosubuid', NO_SUBID_USER);
    try {
      const result = await single.run(['pull', `${plain}/skiff/busybox`]);
      expect(result.code).toBe(125);
      expect(errorLine(result.stderr)).toMatch(
        /no subordinate id range for user .* in \/etc\/subuid: ask an admin to run `usermod --add-subuids .*`, or set storage.userns = "single"/,
      );
      expect(storeContents(single.dataDir)).toMatchObject({ images: [], layers: [] });
    } finally {
      await single.cleanup();
    }
  });
});
