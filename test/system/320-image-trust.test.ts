// The signature policy against a real loopback registry and a real gpg key made here: image trust
// set/show edit and list ~/.config/containers/policy.json; a pull obeys it (reject refuses;
// signedBy wants a signature that gpg verifies, for this digest and this reference); image sign
// writes the signature a later pull accepts. Nothing is stored by a refused pull.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { asTestUser, testIds, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const REPO = `${plain}/trust/bb`;

const sb = useSandbox('image-trust', { pull: [IMG] });
const asUser = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { ...asTestUser(), env: { ...sb.env }, cwd: sb.home, input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
const skopeoDigest = (ref: string) =>
  JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`], { stdio: ['ignore', 'pipe', 'pipe'] }).toString()).Digest as string;
const policyFile = () => join(sb.home, '.config/containers/policy.json');
const writePolicy = (policy: unknown) => writeFileSync(policyFile(), JSON.stringify(policy));
const sigstore = () => join(sb.home, '.local/share/containers/sigstore');
const names = async () => (await sb.runCli(0, 'images', '--format', '{{.Repository}}:{{.Tag}}')).stdout;
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l && !l.startsWith('Trying to pull'));

let keyFile: string;
beforeAll(async () => {
  asUser('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'Skiff Signer <signer@example.com>', 'default', 'default', 'never']);
  keyFile = join(sb.home, 'signer.gpg');
  writeFileSync(keyFile, asUser('gpg', ['--batch', '--armor', '--export', 'signer@example.com']));
  const { uid, gid } = testIds();
  for (const d of ['.config', '.config/containers']) {
    mkdirSync(join(sb.home, d), { recursive: true });
    chownSync(join(sb.home, d), uid, gid);
  }
  // Two manifests of one image: :one (Docker schema 2) and :two (OCI) have different digests.
  await sb.runCli(0, 'push', '--format', 'v2s2', IMG, `${REPO}:one`);
  await sb.runCli(0, 'push', '--format', 'oci', IMG, `${REPO}:two`);
});

// The gpg-agent the key generation and signing started goes with the sandbox.
afterAll(() => {
  asUser('gpgconf', ['--kill', 'gpg-agent']);
});

describe('image trust set and show', () => {
  it('writes the scopes Podman writes and lists them', async () => {
    await sb.runCli(0, 'image', 'trust', 'set', '-t', 'accept', 'default');
    await sb.runCli(0, 'image', 'trust', 'set', '-t', 'reject', `${plain}/trust`);
    await sb.runCli(0, 'image', 'trust', 'set', '-f', keyFile, 'registry.example/signed');
    expect(JSON.parse(readFileSync(policyFile(), 'utf8'))).toEqual({
      default: [{ type: 'insecureAcceptAnything' }],
      transports: {
        docker: {
          [`${plain}/trust`]: [{ type: 'reject' }],
          'registry.example/signed': [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: keyFile }],
        },
      },
    });
    const table = (await sb.runCli(0, 'image', 'trust', 'show')).stdout.split('\n');
    expect(table[0]).toMatch(/^TRANSPORT\s+NAME\s+TYPE\s+ID\s+STORE$/);
    expect(table[1]).toMatch(/^all\s+default\s+accept$/);
    expect(table.find((l) => l.includes(`${plain}/trust`))).toMatch(/^repository\s+\S+\s+reject$/);
    const fpr = asUser('gpg', ['--with-colons', '--list-keys', 'signer@example.com'])
      .split('\n')
      .find((l) => l.startsWith('pub:'))!
      .split(':')[4];
    expect(table.find((l) => l.includes('registry.example/signed'))).toMatch(new RegExp(`signed\\s+${fpr}\\s+file://${sigstore()}$`));
    const json = JSON.parse((await sb.runCli(0, 'image', 'trust', 'show', '--json', 'registry.example/signed')).stdout);
    expect(json).toEqual([
      {
        transport: 'repository',
        name: 'registry.example/signed',
        repo_name: 'registry.example/signed',
        type: 'signed',
        gpg_id: fpr,
        sigstore: `file://${sigstore()}`,
      },
    ]);
    expect((await sb.runCli(0, 'image', 'trust', 'show', '--raw')).stdout.trim()).toBe(readFileSync(policyFile(), 'utf8').trim());
    const bad = await sb.run(['image', 'trust', 'set', '-t', 'signedBy', 'x.example']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/at least one public key must be defined for type 'signedBy'/);
    const bogus = await sb.run(['image', 'trust', 'set', '-t', 'bogus', 'x.example']);
    expect(bogus.stderr).toMatch(/invalid choice: bogus/);
  });
});

describe('pull obeys the policy', () => {
  it('refuses a rejected scope in one line naming the file and scope, and still pulls what the default accepts', async () => {
    writePolicy({ default: [{ type: 'insecureAcceptAnything' }], transports: { docker: { [`${plain}/trust`]: [{ type: 'reject' }] } } });
    const r = await sb.run(['pull', `${REPO}:one`]);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(`rejected by policy ${policyFile()} (scope docker:${plain}/trust)`);
    expect(await names()).not.toContain(`${REPO}:one`);
    await sb.runCli(0, 'pull', '-q', IMG);
    // A global reject applies where no scope matches; the most specific scope wins over it.
    writePolicy({ default: [{ type: 'reject' }], transports: { docker: { [`${REPO}:one`]: [{ type: 'insecureAcceptAnything' }] } } });
    expect((await sb.run(['pull', IMG])).stderr).toContain('(scope default)');
    await sb.runCli(0, 'pull', '-q', `${REPO}:one`);
    await sb.runCli(0, 'rmi', `${REPO}:one`);
  });

  it('refuses requirement types skiff cannot check', async () => {
    writePolicy({ default: [{ type: 'sigstoreSigned', keyPath: keyFile }] });
    const r = await sb.run(['pull', `${REPO}:one`]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/requires sigstoreSigned, which skiff cannot verify/);
  });

  it('wants a gpg signature for signedBy: none refused, image sign then pull accepted, another digest refused', async () => {
    writePolicy({
      default: [{ type: 'insecureAcceptAnything' }],
      transports: { docker: { [`${plain}/trust`]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: keyFile }] } },
    });
    const unsigned = await sb.run(['pull', `${REPO}:one`]);
    expect(unsigned.code).toBe(125);
    expect(errorLines(unsigned.stderr)).toHaveLength(1);
    expect(unsigned.stderr).toMatch(/is not signed as policy .* requires: no signature in/);
    expect(await names()).not.toContain(`${REPO}:one`);

    const noKey = await sb.run(['image', 'sign', `docker://${REPO}:one`]);
    expect(noKey.stderr).toMatch(/please provide an identity/);
    await sb.runCli(0, 'image', 'sign', '--sign-by', 'signer@example.com', `docker://${REPO}:one`);
    const one = skopeoDigest(`${REPO}:one`);
    const two = skopeoDigest(`${REPO}:two`);
    expect(one).not.toBe(two);
    const sigOne = join(sigstore(), `trust/bb@${one.replace(':', '=')}`, 'signature-1');
    expect(existsSync(sigOne)).toBe(true);
    const pulled = await sb.run(['pull', '-q', `${REPO}:one`]);
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);
    expect(await names()).toContain(`${REPO}:one`);

    // Attack: :one's valid signature copied where :two's would be. It names the other digest.
    const dirTwo = join(sigstore(), `trust/bb@${two.replace(':', '=')}`);
    asUser('mkdir', ['-p', dirTwo]);
    asUser('cp', [sigOne, join(dirTwo, 'signature-1')]);
    const copied = await sb.run(['pull', `${REPO}:two`]);
    expect(copied.code).toBe(125);
    expect(copied.stderr).toContain(`signs digest ${one}, not ${two}`);
    expect(await names()).not.toContain(`${REPO}:two`);

    // Attack: a payload for :two signed by a key the policy does not name.
    asUser('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'Intruder <intruder@example.com>', 'default', 'default', 'never']);
    const payload = JSON.stringify({
      critical: { identity: { 'docker-reference': `${REPO}:two` }, image: { 'docker-manifest-digest': two }, type: 'atomic container signature' },
      optional: {},
    });
    writeFileSync(join(sb.home, 'forged'), payload);
    asUser('gpg', ['--batch', '--yes', '--local-user', 'intruder@example.com', '--output', join(dirTwo, 'signature-2'), '--sign', join(sb.home, 'forged')]);
    const forged = await sb.run(['pull', `${REPO}:two`]);
    expect(forged.code).toBe(125);
    expect(forged.stderr).toMatch(/signature-2: gpg could not verify it/);

    // A corrupted copy of a good signature fails too.
    const bytes = readFileSync(sigOne);
    bytes[bytes.length - 20] ^= 0xff;
    writeFileSync(join(sb.home, 'corrupt'), bytes);
    asUser('cp', [join(sb.home, 'corrupt'), join(dirTwo, 'signature-1')]);
    expect((await sb.run(['pull', `${REPO}:two`])).code).toBe(125);

    // Signing :two (the next signature-N) lets it in.
    await sb.runCli(0, 'image', 'sign', '--sign-by', 'signer@example.com', `docker://${REPO}:two`);
    expect(readdirSync(dirTwo).sort()).toEqual(['signature-1', 'signature-2', 'signature-3']);
    await sb.runCli(0, 'pull', '-q', `${REPO}:two`);

    // --directory: the signature goes where it says.
    const dir = join(sb.home, 'sigs');
    await sb.runCli(0, 'image', 'sign', '--sign-by', 'signer@example.com', '--directory', dir, `docker://${REPO}:one`);
    expect(existsSync(join(dir, `trust/bb@${one.replace(':', '=')}`, 'signature-1'))).toBe(true);
    writePolicy({ default: [{ type: 'insecureAcceptAnything' }] });
  });
});
