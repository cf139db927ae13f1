// Documents a registry sends without end, or far too large: skiff reads each to its cap and no
// further (its peak memory stays where a normal failed pull's is), fails with exit 125 and one line
// naming the document and the cap, and stores nothing.
import { chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testIds, useSandbox } from '../helpers/cli.js';
import { endless, fixed, startHostileRegistry, type HostileRegistry } from '../helpers/hostile-registry.js';
import { storeContents } from '../helpers/store.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MiB = 1024 * 1024;

let reg: HostileRegistry;
let baselineKiB = 0;

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const layer = JSON.stringify({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest('0'), size: 1 });
const manifestHead = (config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest('c'), size: 1000 }) =>
  `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":${JSON.stringify(config)},"layers":[`;

// Runs `skiff pull` under GNU time: the exit, stderr and the peak RSS (KiB) of skiff's processes
// (time's %M is the largest of the process and every descendant it waited for).
const pull = async (name: string): Promise<{ code: number; stderr: string; peakKiB: number }> => {
  const out = join(sb.dir, `time-${name.replace(/\W/g, '_')}`);
  const { code, stderr } = await sb.run(['pull', `${reg.host}/${name}`], { wrapper: ['/usr/bin/time', '-f', '%M', '-o', out], timeoutMs: 60_000 });
  return { code, stderr, peakKiB: Number(readFileSync(out, 'utf8').trim().split('\n').at(-1)) };
};

// Exit 125, exactly one line, and a peak memory near that of a pull that fails at once.
const expectRefused = (result: { code: number; stderr: string; peakKiB: number }, line: RegExp) => {
  const lines = result.stderr.trim().split('\n');
  console.log(`peak RSS ${Math.round(result.peakKiB / 1024)} MiB (baseline ${Math.round(baselineKiB / 1024)} MiB): ${lines.at(-1)}`);
  expect(result.code, result.stderr).toBe(125);
  // The progress line ("Trying to pull …"), then the one error line.
  expect(
    lines.slice(0, -1).every((l) => l.startsWith('Trying to pull ')),
    result.stderr,
  ).toBe(true);
  expect(`${lines.at(-1)}\n`).toMatch(line);
  expect(result.peakKiB - baselineKiB).toBeLessThan(48 * 1024);
  expect(storeContents(sb.dataDir)).toMatchObject({ images: [], layers: [], partial: [] });
};

const sb = useSandbox('limits');
beforeAll(async () => {
  reg = await startHostileRegistry();
  // The baseline: a pull the registry answers "manifest unknown" (the sandbox's namespace is set up
  // by a first command, so that cost is not in the figures).
  await sb.run(['pull', `${reg.host}/none/warm-up`]);
  const baseline = await pull('none/baseline');
  expect(baseline.stderr).toMatch(/manifest unknown/);
  baselineKiB = baseline.peakKiB;
});
afterAll(async () => {
  await reg.stop();
});

describe('documents without end', () => {
  it('an endless manifest is cut off at 4 MiB', async () => {
    const path = '/v2/hostile/endless-manifest/manifests/latest';
    reg.route(path, endless(manifestHead(), `${layer},`, { 'content-type': OCI_MANIFEST }));
    const result = await pull('hostile/endless-manifest');
    expectRefused(
      result,
      /^Error: manifest hostile\/endless-manifest:latest from registry 127\.0\.0\.1:\d+ is larger than 4 MiB, the limit for it: refusing to read it\n$/,
    );
    expect(reg.sent(path)).toBeLessThan(64 * MiB);
  });

  it('an endless image config is cut off at 4 MiB', async () => {
    const manifest = `${manifestHead()}]}`;
    reg.route('/v2/hostile/endless-config/manifests/latest', fixed(manifest, { 'content-type': OCI_MANIFEST }));
    const path = `/v2/hostile/endless-config/blobs/${digest('c')}`;
    reg.route(path, endless('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[', `"${digest('d')}",`));
    const result = await pull('hostile/endless-config');
    expectRefused(
      result,
      new RegExp(`^Error: image config ${digest('c')} from registry 127\\.0\\.0\\.1:\\d+ is larger than 4 MiB, the limit for it: refusing to read it\\n$`),
    );
    expect(reg.sent(path)).toBeLessThan(64 * MiB);
  });

  it('an endless token response is cut off at 1 MiB', async () => {
    reg.route('/v2/hostile/endless-token/manifests/latest', (_req, res, host) =>
      fixed('{}', { 'www-authenticate': `Bearer realm="http://${host}/token",service="hostile"`, 'content-type': 'application/json' }, 401)(_req, res, host),
    );
    reg.route('/token', endless('{"token":"', 'a'.repeat(1024), { 'content-type': 'application/json' }));
    const result = await pull('hostile/endless-token');
    expectRefused(result, /^Error: the answer of the token service of 127\.0\.0\.1:\d+ is larger than 1 MiB, the limit for it: refusing to read it\n$/);
    expect(reg.sent('/token')).toBeLessThan(64 * MiB);
  });

  it('an endless error body is cut off at 1 MiB', async () => {
    const path = '/v2/hostile/endless-error/manifests/latest';
    reg.route(path, endless('{"errors":[{"code":"DENIED","message":"', 'x'.repeat(1024), { 'content-type': 'application/json' }, 400));
    const result = await pull('hostile/endless-error');
    expectRefused(
      result,
      /^Error: the body of registry 127\.0\.0\.1:\d+'s HTTP 400 answer for \/v2\/hostile\/endless-error\/manifests\/latest is larger than 1 MiB, the limit for it: refusing to read it\n$/,
    );
    expect(reg.sent(path)).toBeLessThan(64 * MiB);
  });
});

describe('documents too large', () => {
  it('a 50 MB manifest is refused, not stored', async () => {
    const head = manifestHead();
    const count = Math.ceil((50 * 1000 * 1000 - head.length) / (layer.length + 1));
    const manifest = Buffer.from(`${head}${Array(count).fill(layer).join(',')}]}`);
    expect(manifest.length).toBeGreaterThan(50 * 1000 * 1000);
    reg.route('/v2/hostile/huge-manifest/manifests/latest', fixed(manifest, { 'content-type': OCI_MANIFEST }));
    const result = await pull('hostile/huge-manifest');
    expectRefused(
      result,
      /^Error: manifest hostile\/huge-manifest:latest from registry 127\.0\.0\.1:\d+ is larger than 4 MiB, the limit for it: refusing to read it\n$/,
    );
  });

  it('an index entry and a config whose descriptors say they are too large are not fetched', async () => {
    const big = { mediaType: OCI_MANIFEST, digest: digest('e'), size: 5 * MiB, platform: { os: 'linux', architecture: 'amd64' } };
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [big, { ...big, platform: { os: 'linux', architecture: 'arm64' } }],
    });
    reg.route('/v2/hostile/big-entry/manifests/latest', fixed(index, { 'content-type': 'application/vnd.oci.image.index.v1+json' }));
    const entry = await pull('hostile/big-entry');
    expectRefused(entry, new RegExp(`^Error: manifest hostile/big-entry@${digest('e')} from registry 127\\.0\\.0\\.1:\\d+ is larger than 4 MiB`));
    expect(reg.hits(`/v2/hostile/big-entry/manifests/${digest('e')}`)).toBe(0);

    const manifest = `${manifestHead({ mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest('f'), size: 5 * MiB })}]}`;
    reg.route('/v2/hostile/big-config/manifests/latest', fixed(manifest, { 'content-type': OCI_MANIFEST }));
    const config = await pull('hostile/big-config');
    expectRefused(config, new RegExp(`^Error: image config ${digest('f')} from registry 127\\.0\\.0\\.1:\\d+ is larger than 4 MiB`));
    expect(reg.hits(`/v2/hostile/big-config/blobs/${digest('f')}`)).toBe(0);
  });
});

describe('files read whole', () => {
  // A file of the user's, `size` bytes of JSON-ish text.
  const bigFile = (name: string, size: number): string => {
    const file = join(sb.dir, name);
    writeFileSync(file, `{"pad":"${'x'.repeat(size)}"}`);
    const { uid, gid } = testIds();
    chownSync(file, uid, gid);
    return file;
  };

  it('an auth file over 1 MiB is refused', async () => {
    const file = bigFile('auth.json', 2 * MiB);
    const { code, stderr } = await sb.run(['pull', '--authfile', file, `${reg.host}/none/x`]);
    expect({ code, stderr }).toEqual({
      code: 125,
      stderr: `Trying to pull ${reg.host}/none/x:latest...\nError: auth file ${file} is larger than 1 MiB, the limit for it: refusing to read it\n`,
    });
  });

  it('a skiff.conf over 1 MiB is refused', async () => {
    const file = bigFile('skiff.conf', 2 * MiB);
    const { code, stderr } = await sb.run(['images'], { env: { SKIFF_CONFIG: file } });
    expect({ code, stderr }).toEqual({ code: 125, stderr: `Error: config file ${file} is larger than 1 MiB, the limit for it: refusing to read it\n` });
  });
});
