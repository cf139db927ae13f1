// Simple signing (containers-signature(5)): a GPG-signed JSON "atomic container signature" that
// binds a docker reference to a manifest digest, kept in a lookaside store named by
// containers-registries.d(5) as REPO@sha256=HEX/signature-N. `image sign` writes them; a pull whose
// policy says signedBy (image/policy.ts) reads them and verifies them with gpg against the keys the
// policy names, in a throw-away GNUPGHOME.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import { readBounded, readBoundedFile } from '../util/bounded-read.js';
import { HelperError, requireHelperBinary, runHelper } from '../util/exec.js';
import { CONFIG_FILE_MAX } from '../util/limits.js';
import type { PolicyRequirement } from './policy.js';

/** A signature is small; containers/image caps them at 4 MiB. */
const SIGNATURE_MAX = 4 * 1024 * 1024;
/** How many signature-N a pull looks at before giving up. */
const SIGNATURES_TRIED = 16;

const gpg = (): string => requireHelperBinary('gpg', 'gnupg');

// The payload `image sign` signs: the reference and the manifest digest, critical; creator and time, optional.
export const signaturePayload = (dockerReference: string, manifestDigest: string): string =>
  JSON.stringify({
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': manifestDigest },
      type: 'atomic container signature',
    },
    optional: { creator: 'skiff', timestamp: Math.floor(Date.now() / 1000) },
  });

// --- registries.d ------------------------------------------------------------------------------

// The scalars of a registries.d YAML file: "default-docker" and each "docker" namespace's map
// (only the two-level mappings of string scalars these files use).
export const parseRegistriesD = (text: string): { defaultDocker: Record<string, string>; docker: Record<string, Record<string, string>> } => {
  const out = { defaultDocker: {} as Record<string, string>, docker: {} as Record<string, Record<string, string>> };
  let top = '';
  let ns: string | undefined;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/(^|\s)#.*$/, '').replace(/\s+$/, '');
    if (!line.trim()) continue;
    const indent = line.length - line.trimStart().length;
    const m = /^\s*("[^"]*"|'[^']*'|[^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1].replace(/^["']|["']$/g, '').trim();
    const value = m[2].replace(/^["']|["']$/g, '');
    if (indent === 0) {
      top = key;
      ns = undefined;
    } else if (top === 'default-docker' && value) out.defaultDocker[key] = value;
    else if (top === 'docker' && !value) {
      ns = key;
      out.docker[ns] = {};
    } else if (top === 'docker' && ns && value) out.docker[ns][key] = value;
  }
  return out;
};

// The registries.d directory: the user's when it exists, else the system's (containers-registries.d(5)).
const registriesDir = (): string => {
  const user = join(process.env.HOME || homedir(), '.config/containers/registries.d');
  return existsSync(user) ? user : '/etc/containers/registries.d';
};

// The lookaside store for a name (host/repo): the most specific "docker" namespace's, else
// default-docker's, else the user's ~/.local/share/containers/sigstore. `write` prefers the
// *-staging URL, as a signer does.
export const lookasideFor = (name: string, write = false): string => {
  const dir = registriesDir();
  const namespaces: Record<string, Record<string, string>> = {};
  let fallback: Record<string, string> = {};
  let files: string[] = [];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
      .sort();
  } catch {}
  for (const f of files) {
    const parsed = parseRegistriesD(readBoundedFile(join(dir, f), { what: `${dir}/${f}`, limit: CONFIG_FILE_MAX, code: 'ECONFIG' }).toString('utf8'));
    Object.assign(namespaces, parsed.docker);
    if (Object.keys(parsed.defaultDocker).length) fallback = parsed.defaultDocker;
  }
  const pick = (entry: Record<string, string>): string | undefined =>
    (write ? (entry['lookaside-staging'] ?? entry['sigstore-staging']) : undefined) ?? entry.lookaside ?? entry.sigstore;
  for (let n = name; n; n = n.includes('/') ? n.slice(0, n.lastIndexOf('/')) : '') {
    const url = namespaces[n] && pick(namespaces[n]);
    if (url) return url;
  }
  return pick(fallback) ?? `file://${join(process.env.HOME || homedir(), '.local/share/containers/sigstore')}`;
};

// REPO@sha256=HEX, the directory of one manifest's signatures (REPO without the registry host).
export const signatureDirName = (repository: string, digest: string): string => `${repository}@${digest.replace(':', '=')}`;

// Reads signature-N from a lookaside store; undefined when there is no such signature.
const readSignature = async (base: string, dirName: string, n: number): Promise<Buffer | undefined> => {
  const what = `signature ${dirName}/signature-${n} from ${base}`;
  if (base.startsWith('file://')) {
    const path = join(base.slice('file://'.length), dirName, `signature-${n}`);
    if (!existsSync(path)) return undefined;
    return readBoundedFile(path, { what, limit: SIGNATURE_MAX });
  }
  if (!/^https?:\/\//.test(base)) throw new CliError('ECONFIG', `lookaside store ${base}: only file://, http:// and https:// URLs are supported`);
  const { request } = await import('undici');
  const res = await request(`${base.replace(/\/+$/, '')}/${dirName}/signature-${n}`, { maxRedirections: 3 });
  if (res.statusCode === 404) {
    await res.body.dump();
    return undefined;
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new CliError('EREGISTRY', `${what}: HTTP ${res.statusCode}`);
  }
  const length = Number(res.headers['content-length']);
  return readBounded(res.body, { what, limit: SIGNATURE_MAX }, Number.isFinite(length) ? length : undefined);
};

// The key material of a signedBy requirement, as buffers gpg can import.
const keysOf = (req: PolicyRequirement): Buffer[] => {
  if (req.keyType && req.keyType !== 'GPGKeys') throw new CliError('ECONFIG', `signedBy keyType ${req.keyType}: skiff can only verify GPGKeys`);
  const paths = [...(req.keyPath ? [req.keyPath] : []), ...(req.keyPaths ?? [])];
  const keys = paths.map((p) => readBoundedFile(p, { what: `public key file ${p}`, limit: CONFIG_FILE_MAX, code: 'ECONFIG' }));
  if (req.keyData) keys.push(Buffer.from(req.keyData, 'base64'));
  if (keys.length === 0) throw new CliError('ECONFIG', 'a signedBy requirement names no keyPath, keyPaths or keyData');
  return keys;
};

// The payload of a signature made by one of `keys`, or a reason why there is none.
const verifyWithGpg = async (keys: Buffer[], signature: Buffer): Promise<{ payload: Buffer } | { reason: string }> => {
  const home = mkdtempSync(join(tmpdir(), 'skiff-gpg-'));
  try {
    const base = ['--homedir', home, '--batch', '--no-tty', '--no-autostart'];
    const keyring = join(home, 'trusted.gpg');
    const withRing = [...base, '--no-default-keyring', '--keyring', keyring];
    for (const [i, key] of keys.entries()) {
      writeFileSync(join(home, `key-${i}`), key);
      await runHelper(gpg(), [...withRing, '--import', join(home, `key-${i}`)]);
    }
    const listed = await runHelper(gpg(), [...withRing, '--with-colons', '--fingerprint', '--list-keys']);
    const trusted = new Set(
      listed.stdout
        .split('\n')
        .filter((l) => l.startsWith('fpr:'))
        .map((l) => l.split(':')[9]),
    );
    const sigFile = join(home, 'signature');
    const outFile = join(home, 'payload');
    writeFileSync(sigFile, signature);
    let status: string;
    try {
      status = (await runHelper(gpg(), [...withRing, '--trust-model', 'always', '--status-fd', '1', '--output', outFile, '--decrypt', sigFile])).stdout;
    } catch (error) {
      if (error instanceof HelperError) return { reason: `gpg could not verify it: ${error.stderr.trim().split('\n').pop() ?? ''}` };
      throw error;
    }
    const valid = status.split('\n').filter((l) => l.startsWith('[GNUPG:] VALIDSIG '));
    if (valid.length !== 1) return { reason: `it carries ${valid.length} valid signatures, not one` };
    const fields = valid[0].split(' ');
    if (!trusted.has(fields[2]) && !trusted.has(fields[11])) return { reason: 'it is signed by a key the policy does not name' };
    return { payload: readBoundedFile(outFile, { what: 'signature payload', limit: SIGNATURE_MAX }) };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
};

interface Payload {
  critical?: { type?: string; identity?: { 'docker-reference'?: string }; image?: { 'docker-manifest-digest'?: string } };
}

const repoOf = (reference: string): string => reference.replace(/@.*$/, '').replace(/:[^/:]*$/, '');

// Whether the signed identity matches the pulled reference (signedIdentity, default matchRepoDigestOrExact).
const identityMatches = (req: PolicyRequirement, signed: string, pulled: string): boolean => {
  const kind = req.signedIdentity?.type ?? 'matchRepoDigestOrExact';
  switch (kind) {
    case 'matchExact':
      return signed === pulled;
    case 'matchRepository':
      return repoOf(signed) === repoOf(pulled);
    case 'matchRepoDigestOrExact':
      return pulled.includes('@') ? repoOf(signed) === repoOf(pulled) : signed === pulled;
    case 'exactReference':
      return signed === req.signedIdentity?.dockerReference;
    case 'exactRepository':
      return repoOf(signed) === req.signedIdentity?.dockerRepository;
    default:
      throw new CliError('ECONFIG', `signedIdentity type ${kind}: skiff cannot check that identity rule`);
  }
};

export interface SignedImage {
  /** host/repo, the lookaside namespace. */
  name: string;
  /** The repository without the host: the signature directory's name. */
  repository: string;
  /** The pulled reference, host/repo:tag or host/repo@digest. */
  reference: string;
  manifestDigest: string;
}

// Checks one signedBy requirement: some signature-N in the lookaside store verifies with the
// requirement's keys and names this manifest digest and reference. Throws why not.
export const checkSignedBy = async (req: PolicyRequirement, image: SignedImage, where: string): Promise<void> => {
  const keys = keysOf(req);
  const base = lookasideFor(image.name);
  const dirName = signatureDirName(image.repository, image.manifestDigest);
  const reasons: string[] = [];
  for (let n = 1; n <= SIGNATURES_TRIED; n++) {
    const signature = await readSignature(base, dirName, n);
    if (!signature) break;
    const result = await verifyWithGpg(keys, signature);
    if ('reason' in result) {
      reasons.push(`signature-${n}: ${result.reason}`);
      continue;
    }
    let payload: Payload;
    try {
      payload = JSON.parse(result.payload.toString('utf8')) as Payload;
    } catch (error) {
      reasons.push(`signature-${n}: its payload is not JSON (${messageOf(error)})`);
      continue;
    }
    const critical = payload.critical;
    if (critical?.type !== 'atomic container signature') reasons.push(`signature-${n}: not an atomic container signature`);
    else if (critical.image?.['docker-manifest-digest'] !== image.manifestDigest)
      reasons.push(`signature-${n}: signs digest ${critical.image?.['docker-manifest-digest']}, not ${image.manifestDigest}`);
    else if (!identityMatches(req, critical.identity?.['docker-reference'] ?? '', image.reference))
      reasons.push(`signature-${n}: signs ${critical.identity?.['docker-reference']}, not ${image.reference}`);
    else return;
  }
  const why = reasons.length ? reasons.join('; ') : `no signature in ${base}/${dirName}`;
  throw new CliError('EREGISTRY', `${image.reference} is not signed as ${where} requires: ${why}`);
};

// `image sign`: signs the payload with the user's keyring and stores it as the next signature-N
// in DIR/REPO@sha256=HEX. Returns the file written.
export const writeSignature = async (dir: string, image: SignedImage, signBy: string): Promise<string> => {
  const payload = signaturePayload(image.reference, image.manifestDigest);
  const signed = await runHelper(gpg(), ['--batch', '--no-tty', '--local-user', signBy, '--sign'], { input: payload });
  const target = join(dir, signatureDirName(image.repository, image.manifestDigest));
  mkdirSync(target, { recursive: true });
  let n = 1;
  while (existsSync(join(target, `signature-${n}`))) n++;
  const file = join(target, `signature-${n}`);
  writeFileSync(file, signed.stdoutBytes, { flag: 'wx', mode: 0o644 });
  return file;
};

// The key ids in signedBy requirements' key material (image trust show's ID column); a file gpg
// cannot read is shown as such, not an error.
export const keyIds = async (reqs: PolicyRequirement[]): Promise<string[]> => {
  const ids: string[] = [];
  const home = mkdtempSync(join(tmpdir(), 'skiff-gpg-'));
  try {
    await collectKeyIds(reqs, home, ids);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  return ids;
};

const collectKeyIds = async (reqs: PolicyRequirement[], home: string, ids: string[]): Promise<void> => {
  for (const req of reqs) {
    let keys: Buffer[];
    try {
      keys = keysOf(req);
    } catch (error) {
      ids.push(`(${messageOf(error)})`);
      continue;
    }
    for (const key of keys) {
      try {
        const out = await runHelper(gpg(), ['--homedir', home, '--batch', '--no-tty', '--with-colons', '--import-options', 'show-only', '--import'], {
          input: key,
        });
        ids.push(
          ...out.stdout
            .split('\n')
            .filter((l) => l.startsWith('pub:'))
            .map((l) => l.split(':')[4]),
        );
      } catch {
        ids.push('(unreadable key)');
      }
    }
  }
};
