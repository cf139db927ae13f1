// image trust show/set: the signature policy as Podman's table lists it, and one scope's
// requirements replaced (image/policy.ts holds the file and its rules).
import { resolve } from 'node:path';
import { CliError } from '../errors.js';
import { loadPolicy, policyPath, savePolicy, userPolicyPath, setTrust, trustEntries, trustRequirements, type Policy } from '../image/policy.js';
import { keyIds, lookasideFor } from '../image/signatures.js';

export interface TrustRow {
  transport: string;
  name: string;
  repo_name: string;
  type: string;
  /** The key ids of a signedBy scope's key files, and the lookaside store its signatures are read from. */
  gpg_id?: string;
  sigstore?: string;
}

export interface TrustShowReport {
  path: string;
  raw: string;
  rows: TrustRow[];
}

// The policy's scopes, or only REGISTRY's when one is named.
export const showTrust = async (options: { policyPath?: string; registry?: string }): Promise<TrustShowReport> => {
  const loaded = loadPolicy(options.policyPath);
  if (!loaded) throw new CliError('ECONFIG', `no signature policy: ${policyPath(options.policyPath)} does not exist (create it with skiff image trust set)`);
  const rows: TrustRow[] = [];
  for (const entry of trustEntries(loaded.policy)) {
    if (options.registry && entry.repo_name !== options.registry) continue;
    const row: TrustRow = { transport: entry.transport, name: entry.name, repo_name: entry.repo_name, type: entry.type };
    if (entry.keys.length > 0) {
      row.gpg_id = (await keyIds(entry.keys)).join(', ');
      if (entry.transport === 'repository') row.sigstore = lookasideFor(entry.repo_name);
    }
    rows.push(row);
  }
  return { path: loaded.path, raw: loaded.raw, rows };
};

// Replaces REGISTRY's requirements (or the global default's, for "default") and writes the file.
export const setTrustPolicy = (registry: string, options: { type: string; pubkeysfile?: string[]; policyPath?: string }): string => {
  const requirements = trustRequirements(
    options.type,
    (options.pubkeysfile ?? []).map((p) => resolve(p)),
  );
  // Podman (rootless) would write /etc/containers/policy.json and fail: skiff writes the user's
  // file, which then takes the system's place for this user.
  const path = options.policyPath ?? userPolicyPath();
  const current: Policy = loadPolicy(options.policyPath)?.policy ?? { default: [{ type: 'insecureAcceptAnything' }] };
  savePolicy(path, setTrust(current, registry, requirements));
  return path;
};
