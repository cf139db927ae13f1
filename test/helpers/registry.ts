// A real registry for tests: Debian's docker-registry (CNCF distribution) on 127.0.0.1 and a free
// port, optionally behind htpasswd basic auth or bearer tokens from a small token service; and a
// pusher that uploads fixture images through the distribution API.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { generateKeyPairSync, createSign, randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuiltLayer } from './layers.js';
import { sha256 } from './layers.js';

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });

export interface Registry {
  host: string;
  /** The CA certificate of a TLS registry. */
  caFile?: string;
  /** The registry's storage root (tests corrupt blobs in it). */
  dataDir: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  auth?: 'basic' | 'token';
  /** Serve HTTPS with a fresh self-signed certificate for 127.0.0.1 (written to `caFile`). */
  tls?: boolean;
  users?: Record<string, string>;
  /** With `tls`: require a client certificate signed by this CA (a PEM file). */
  clientCaFile?: string;
}

const waitForPort = async (port: number, child: ChildProcess, log: () => string, tls: boolean): Promise<void> => {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`registry exited: ${log()}`);
    try {
      // A TLS registry answers plain HTTP with 400, which is enough to know it listens.
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      if (res.status === 200 || res.status === 401 || (tls && res.status === 400)) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`registry did not start: ${log()}`);
};

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

// A token service as Docker Hub's: Basic credentials in, a signed JWT (RS256, x5c header) out.
const startTokenService = async (dir: string, users: Record<string, string>): Promise<{ realm: string; certFile: string; server: Server }> => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  execFileSync('openssl', ['req', '-x509', '-new', '-key', keyFile, '-subj', '/CN=skiff-test-token', '-days', '2', '-out', certFile], { stdio: 'ignore' });
  const der = new X509Certificate(execFileSync('cat', [certFile])).raw;
  const port = await freePort();
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization;
    let subject = '';
    if (auth?.startsWith('Basic ')) {
      const [user, pass] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (users[user] !== pass) {
        res.writeHead(401).end();
        return;
      }
      subject = user;
    }
    const access = url.searchParams.getAll('scope').flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      // Anonymous users get nothing: every repository of this registry is private.
      return subject ? [{ type, name, actions: actions.split(',') }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] }));
    const claims = base64url(
      JSON.stringify({
        iss: 'skiff-test-issuer',
        sub: subject,
        aud: url.searchParams.get('service'),
        exp: now + 600,
        nbf: now - 10,
        iat: now,
        jti: randomBytes(8).toString('hex'),
        access,
      }),
    );
    const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(privateKey);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${header}.${claims}.${base64url(signature)}`, expires_in: 600 }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { realm: `http://127.0.0.1:${port}/token`, certFile, server };
};

export const startRegistry = async (options: RegistryOptions = {}): Promise<Registry> => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-registry-'));
  const port = await freePort();
  const users = options.users ?? { tester: 'secret' };
  let auth = '';
  let tokenServer: Server | undefined;
  if (options.auth === 'basic') {
    const lines = Object.entries(users).map(([u, p]) => execFileSync('htpasswd', ['-Bbn', u, p]).toString().trim());
    writeFileSync(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
    auth = `auth:\n  htpasswd:\n    realm: skiff-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (options.auth === 'token') {
    const token = await startTokenService(dir, users);
    tokenServer = token.server;
    auth = `auth:\n  token:\n    realm: ${token.realm}\n    service: skiff-test\n    issuer: skiff-test-issuer\n    rootcertbundle: ${token.certFile}\n`;
  }
  let tls = '';
  let caFile: string | undefined;
  if (options.tls) {
    caFile = join(dir, 'ca.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'tls.key'),
        '-out',
        caFile,
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    tls = `  tls:\n    certificate: ${caFile}\n    key: ${join(dir, 'tls.key')}\n`;
    if (options.clientCaFile) tls += `    clientcas:\n      - ${options.clientCaFile}\n`;
  }
  mkdirSync(join(dir, 'data'));
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${tls}${auth}`,
  );
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await waitForPort(port, child, () => stderr, options.tls === true);
  return {
    host: `127.0.0.1:${port}`,
    caFile,
    dataDir: join(dir, 'data'),
    async stop() {
      child.kill('SIGTERM');
      tokenServer?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

// ---- pushing fixture images ----

export interface FixtureImage {
  layers: BuiltLayer[];
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
  mediaType: string;
}

export const buildImage = (
  layers: BuiltLayer[],
  options: { format?: 'docker' | 'oci'; arch?: string; config?: Record<string, unknown> } = {},
): FixtureImage => {
  const oci = options.format === 'oci';
  const config = Buffer.from(
    JSON.stringify({
      architecture: options.arch ?? 'amd64',
      os: 'linux',
      created: '2024-01-01T00:00:00Z',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], ...options.config },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `layer ${i}` })),
    }),
  );
  const configDigest = sha256(config);
  const mediaType = oci ? 'application/vnd.oci.image.manifest.v1+json' : 'application/vnd.docker.distribution.manifest.v2+json';
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: {
        mediaType: oci ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: layers.map((l) => ({
        mediaType: oci ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.docker.image.rootfs.diff.tar.gzip',
        digest: l.digest,
        size: l.gz.length,
      })),
    }),
  );
  return { layers, config, configDigest, manifest, manifestDigest: sha256(manifest), mediaType };
};

export interface PushAuth {
  username: string;
  password: string;
}

// Talks to the registry as a client would (basic or bearer), for pushing fixtures.
const authedFetch = async (url: string, init: RequestInit, auth: PushAuth | undefined, scope: string): Promise<Response> => {
  const basic = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` : undefined;
  const first = await fetch(url, init);
  if (first.status !== 401 || !auth) return first;
  const challenge = first.headers.get('www-authenticate') ?? '';
  let authorization = basic!;
  if (challenge.startsWith('Bearer')) {
    const realm = /realm="([^"]+)"/.exec(challenge)![1];
    const service = /service="([^"]+)"/.exec(challenge)?.[1] ?? '';
    const res = await fetch(`${realm}?service=${encodeURIComponent(service)}&scope=${encodeURIComponent(scope)}`, { headers: { authorization: basic! } });
    authorization = `Bearer ${((await res.json()) as { token: string }).token}`;
  }
  return fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), authorization } });
};

const pushBlob = async (host: string, repo: string, data: Buffer, digest: string, auth?: PushAuth): Promise<void> => {
  const scope = `repository:${repo}:pull,push`;
  const start = await authedFetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' }, auth, scope);
  if (start.status !== 202) throw new Error(`upload start ${start.status}: ${await start.text()}`);
  const location = new URL(start.headers.get('location')!, `http://${host}`);
  location.searchParams.set('digest', digest);
  const put = await authedFetch(
    location.toString(),
    { method: 'PUT', body: new Uint8Array(data), headers: { 'content-type': 'application/octet-stream' } },
    auth,
    scope,
  );
  if (put.status !== 201) throw new Error(`upload ${digest} ${put.status}: ${await put.text()}`);
};

export const putManifest = async (host: string, repo: string, ref: string, body: Buffer, mediaType: string, auth?: PushAuth): Promise<void> => {
  const res = await authedFetch(
    `http://${host}/v2/${repo}/manifests/${ref}`,
    { method: 'PUT', body: new Uint8Array(body), headers: { 'content-type': mediaType } },
    auth,
    `repository:${repo}:pull,push`,
  );
  if (res.status !== 201) throw new Error(`manifest ${repo}:${ref} ${res.status}: ${await res.text()}`);
};

export const pushImage = async (host: string, repo: string, tag: string, image: FixtureImage, auth?: PushAuth): Promise<void> => {
  for (const layer of image.layers) await pushBlob(host, repo, layer.gz, layer.digest, auth);
  await pushBlob(host, repo, image.config, image.configDigest, auth);
  await putManifest(host, repo, tag, image.manifest, image.mediaType, auth);
};

// Pushes an OCI index over several per-platform images.
export const pushIndex = async (host: string, repo: string, tag: string, images: { image: FixtureImage; arch: string }[], auth?: PushAuth): Promise<string> => {
  for (const { image } of images) await pushImage(host, repo, image.manifestDigest, image, auth);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: images.map(({ image, arch }) => ({
        mediaType: image.mediaType,
        digest: image.manifestDigest,
        size: image.manifest.length,
        platform: { architecture: arch, os: 'linux' },
      })),
    }),
  );
  await putManifest(host, repo, tag, index, 'application/vnd.oci.image.index.v1+json', auth);
  return sha256(index);
};
