// The signature policy (containers-policy.json(5)): which images may be pulled from where. Read from
// $HOME/.config/containers/policy.json when it exists, else /etc/containers/policy.json, as Podman
// does; `image trust` shows and edits it, and every registry pull asks it (image/pull.ts).
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import { readBoundedFile } from '../util/bounded-read.js';
import { CONFIG_FILE_MAX } from '../util/limits.js';
import { checkSignedBy } from './signatures.js';

export interface PolicyRequirement {
  type: string;
  keyType?: string;
  keyPath?: string;
  keyPaths?: string[];
  keyData?: string;
  signedIdentity?: { type: string; dockerReference?: string; dockerRepository?: string };
  [other: string]: unknown;
}

export interface Policy {
  default: PolicyRequirement[];
  transports?: Record<string, Record<string, PolicyRequirement[]>>;
  [other: string]: unknown;
}

export interface LoadedPolicy {
  path: string;
  policy: Policy;
  raw: string;
}

export const SYSTEM_POLICY = '/etc/containers/policy.json';

// The user's own policy file, which `image trust set` writes (a copy of the system's at first).
export const userPolicyPath = (): string => join(process.env.HOME || homedir(), '.config/containers/policy.json');

// The policy file Podman would use: --policypath, else the user's, else the system's.
export const policyPath = (override?: string): string => {
  if (override) return override;
  return existsSync(userPolicyPath()) ? userPolicyPath() : SYSTEM_POLICY;
};

// Reads and checks the policy file; undefined when there is none at all.
export const loadPolicy = (override?: string): LoadedPolicy | undefined => {
  const path = policyPath(override);
  if (!existsSync(path)) return undefined;
  const raw = readBoundedFile(path, { what: `signature policy ${path}`, limit: CONFIG_FILE_MAX, code: 'ECONFIG' }).toString('utf8');
  let policy: Policy;
  try {
    policy = JSON.parse(raw) as Policy;
  } catch (error) {
    throw new CliError('ECONFIG', `signature policy ${path} is not valid JSON (${messageOf(error)}): fix or remove it`);
  }
  if (!policy || typeof policy !== 'object' || !Array.isArray(policy.default)) {
    throw new CliError('ECONFIG', `signature policy ${path} has no "default" list of requirements: fix it (see containers-policy.json(5))`);
  }
  return { path, policy, raw };
};

// Writes the policy file whole (a temp file renamed into place).
export const savePolicy = (path: string, policy: Policy): void => {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(policy, null, 4), { mode: 0o644 });
  renameSync(tmp, path);
};

// The docker transport's scopes for a name, most specific first (containers-policy.json(5)):
// host/repo:tag or host/repo@digest, host/repo, each parent namespace, host, then *.domain wildcards.
export const dockerScopes = (name: string, tagOrDigest?: string): string[] => {
  const scopes: string[] = [];
  if (tagOrDigest) scopes.push(`${name}${tagOrDigest.startsWith('sha256:') ? '@' : ':'}${tagOrDigest}`);
  for (let n = name; n; n = n.includes('/') ? n.slice(0, n.lastIndexOf('/')) : '') scopes.push(n);
  const host = name.split('/')[0].replace(/:\d+$/, '');
  const labels = host.split('.');
  for (let i = 1; i < labels.length; i++) scopes.push(`*.${labels.slice(i).join('.')}`);
  return scopes;
};

export interface ScopedRequirements {
  /** The scope that matched, as the policy names it: "docker:quay.io/ns", "docker (transport default)", "default". */
  scope: string;
  requirements: PolicyRequirement[];
}

// The requirements that apply to a docker reference: its most specific docker scope, else the
// transport's default (""), else the global default.
export const requirementsFor = (policy: Policy, name: string, tagOrDigest?: string): ScopedRequirements => {
  const docker = policy.transports?.docker ?? {};
  for (const scope of dockerScopes(name, tagOrDigest)) {
    if (Object.hasOwn(docker, scope)) return { scope: `docker:${scope}`, requirements: docker[scope] };
  }
  if (Object.hasOwn(docker, '')) return { scope: 'docker (transport default)', requirements: docker[''] };
  return { scope: 'default', requirements: policy.default };
};

// `image trust set`: the requirements a --type stands for.
export const trustRequirements = (type: string, pubkeys: string[]): PolicyRequirement[] => {
  switch (type) {
    case 'accept':
    case 'reject':
      if (pubkeys.length > 0) throw new CliError('EUSAGE', `${pubkeys.length} public keys unexpectedly provided for trust type ${type}`);
      return [{ type: type === 'accept' ? 'insecureAcceptAnything' : 'reject' }];
    case 'signedBy':
      if (pubkeys.length === 0) throw new CliError('EUSAGE', "at least one public key must be defined for type 'signedBy': use --pubkeysfile");
      return pubkeys.map((keyPath) => ({ type: 'signedBy', keyType: 'GPGKeys', keyPath }));
    case 'sigstoreSigned':
      throw new CliError('EUSAGE', '--type sigstoreSigned: skiff cannot verify sigstore signatures; use signedBy (GPG keys), accept or reject');
    default:
      throw new CliError('EUSAGE', `invalid choice: ${type} (choose from 'accept', 'reject', 'signedBy', 'sigstoreSigned')`);
  }
};

// `image trust set`: the policy with REGISTRY's (or, for "default", the global) requirements replaced.
export const setTrust = (policy: Policy, registry: string, requirements: PolicyRequirement[]): Policy => {
  if (registry === 'default') return { ...policy, default: requirements };
  const transports = { ...(policy.transports ?? {}) };
  // Sorted by scope, as Podman writes them (Go marshals maps in key order).
  const docker = { ...(transports.docker ?? {}), [registry]: requirements };
  transports.docker = Object.fromEntries(
    Object.keys(docker)
      .sort()
      .map((k) => [k, docker[k]]),
  );
  return { ...policy, transports };
};

export interface TrustEntry {
  transport: string;
  name: string;
  repo_name: string;
  type: string;
  keys: PolicyRequirement[];
}

const TYPE_NAMES: Record<string, string> = { insecureAcceptAnything: 'accept', signedBy: 'signed', reject: 'reject' };

// `image trust show`: one entry per scope, the global default first, as Podman lists them.
export const trustEntries = (policy: Policy): TrustEntry[] => {
  const entry = (transport: string, name: string, repoName: string, reqs: PolicyRequirement[]): TrustEntry => ({
    transport,
    name,
    repo_name: repoName,
    type: reqs
      .map((r) => TYPE_NAMES[r.type] ?? r.type)
      .filter((t, i, all) => all.indexOf(t) === i)
      .join(', '),
    keys: reqs.filter((r) => r.type === 'signedBy'),
  });
  const entries = [entry('all', '* (default)', 'default', policy.default)];
  for (const [transportName, scopes] of Object.entries(policy.transports ?? {})) {
    for (const scope of Object.keys(scopes).sort()) {
      if (transportName === 'docker' && scope !== '') entries.push(entry('repository', scope, scope, scopes[scope]));
      else entries.push(entry(transportName, scope || '* (transport default)', scope || 'default', scopes[scope]));
    }
  }
  return entries;
};

// Whether the policy lets this manifest of `name` (host/repo, tag or digest as pulled) in; throws
// one line naming the policy file and the scope when it does not. No policy file: no rule.
export const enforcePolicy = async (image: { name: string; repository: string; tagOrDigest?: string; manifestDigest: string }): Promise<void> => {
  const loaded = loadPolicy();
  if (!loaded) return;
  const { scope, requirements } = requirementsFor(loaded.policy, image.name, image.tagOrDigest);
  const where = `${loaded.path} (scope ${scope})`;
  if (requirements.length === 0) throw new CliError('EREGISTRY', `${image.name}: policy ${where} has an empty requirement list, which rejects every image`);
  const reference = image.tagOrDigest ? `${image.name}${image.tagOrDigest.startsWith('sha256:') ? '@' : ':'}${image.tagOrDigest}` : image.name;
  for (const req of requirements) {
    if (req.type === 'insecureAcceptAnything') continue;
    if (req.type === 'reject') throw new CliError('EREGISTRY', `${reference}: pulling is rejected by policy ${where}`);
    if (req.type === 'signedBy') {
      await checkSignedBy(req, { name: image.name, repository: image.repository, reference, manifestDigest: image.manifestDigest }, `policy ${where}`);
      continue;
    }
    throw new CliError(
      'EREGISTRY',
      `${reference}: policy ${where} requires ${req.type}, which skiff cannot verify: use signedBy (GPG keys), insecureAcceptAnything or reject`,
    );
  }
};
