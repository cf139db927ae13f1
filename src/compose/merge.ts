// Merges compose files in order with Compose's rules: mappings merge key by key, scalars and commands
// are replaced, ports/expose/cap lists/tmpfs are unions, volumes are unique by target.
import type { FileModel, ServiceConfig } from './model.js';

const union = <T>(a: T[] | undefined, b: T[] | undefined): T[] => {
  a ??= [];
  b ??= [];
  const seen = new Set(a.map((x) => JSON.stringify(x)));
  return [...a, ...b.filter((x) => !seen.has(JSON.stringify(x)) && seen.add(JSON.stringify(x)))];
};

// b's entries replace a's of the same key in place; the rest of b follows (b's own list is kept whole).
const byKey = <T>(a: T[] | undefined, b: T[] | undefined, key: (x: T) => string): T[] => {
  const over = new Map((b ?? []).map((x) => [key(x), x]));
  const used = new Set<string>();
  const out = (a ?? []).map((x) => {
    const replaced = over.get(key(x));
    if (!replaced) return x;
    used.add(key(x));
    return replaced;
  });
  return [...out, ...(b ?? []).filter((x) => !used.has(key(x)))];
};

export const mergeService = (base: ServiceConfig, over: ServiceConfig): ServiceConfig => {
  const out: ServiceConfig = { ...base, ...over };
  if (base.environment || over.environment) out.environment = { ...base.environment, ...over.environment };
  if (base.labels || over.labels) out.labels = { ...base.labels, ...over.labels };
  if (base.depends_on || over.depends_on) out.depends_on = { ...base.depends_on, ...over.depends_on };
  if (base.networks || over.networks) out.networks = { ...base.networks, ...over.networks };
  if (base.healthcheck || over.healthcheck) out.healthcheck = { ...base.healthcheck, ...over.healthcheck };
  if (base.ports || over.ports) out.ports = union(base.ports, over.ports);
  for (const k of ['expose', 'cap_add', 'cap_drop', 'tmpfs'] as const) if (base[k] || over[k]) out[k] = union(base[k], over[k]);
  if (base.env_file || over.env_file) out.env_file = byKey(base.env_file, over.env_file, (e) => e.path);
  if (base.volumes || over.volumes) out.volumes = byKey(base.volumes, over.volumes, (v) => v.target);
  for (const k of ['dns', 'security_opt', 'extra_hosts'] as const) if (base[k] || over[k]) out[k] = union(base[k], over[k]);
  if (base.extra_hosts || over.extra_hosts) out.extra_hosts = out.extra_hosts?.sort();
  for (const k of ['secrets', 'configs'] as const) if (base[k] || over[k]) out[k] = byKey(base[k], over[k], (r) => r.source);
  if (base.build && over.build)
    out.build = {
      ...base.build,
      ...over.build,
      ...(base.build.args || over.build.args ? { args: { ...base.build.args, ...over.build.args } } : {}),
      ...(base.build.labels || over.build.labels ? { labels: { ...base.build.labels, ...over.build.labels } } : {}),
    };
  if (base.deploy && over.deploy) {
    const [b, o] = [base.deploy.resources, over.deploy.resources];
    out.deploy = {
      ...base.deploy,
      ...over.deploy,
      ...(b || o
        ? {
            resources: {
              ...(b?.limits || o?.limits ? { limits: { ...b?.limits, ...o?.limits } } : {}),
              ...(b?.reservations || o?.reservations ? { reservations: { ...b?.reservations, ...o?.reservations } } : {}),
            },
          }
        : {}),
      ...(base.deploy.restart_policy || over.deploy.restart_policy ? { restart_policy: { ...base.deploy.restart_policy, ...over.deploy.restart_policy } } : {}),
    };
  }
  return out;
};

export const mergeFiles = (files: FileModel[]): FileModel => {
  const out: FileModel = { services: {}, networks: {}, volumes: {} };
  for (const f of files) {
    if (f.name !== undefined) out.name = f.name;
    if (f.origins) out.origins = { ...out.origins, ...f.origins };
    for (const k of ['secrets', 'configs'] as const) if (f[k]) for (const [n, v] of Object.entries(f[k])) (out[k] ??= {})[n] = { ...out[k]?.[n], ...v };
    for (const [n, s] of Object.entries(f.services)) out.services[n] = out.services[n] ? mergeService(out.services[n], s) : s;
    for (const [n, v] of Object.entries(f.networks)) out.networks[n] = { ...out.networks[n], ...v };
    for (const [n, v] of Object.entries(f.volumes)) out.volumes[n] = { ...out.volumes[n], ...v };
  }
  return out;
};
