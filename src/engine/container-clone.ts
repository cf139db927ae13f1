// `container clone`: a new container made from an existing one's recorded configuration (what its
// create resolved: command, environment, mounts, networks, limits, ...), with new limits where asked.
// What belongs to the original alone is not copied: its name and hostname, its addresses and MACs
// on named networks, its anonymous volumes (the clone gets new ones), its pid files, the ids an
// --userns=auto namespace took (the clone gets its own).
import type { LimitFlags, ResourceLimits } from '../cgroups/limits.js';
import type { ContainerConfig, ContainerRecord } from '../state/containers.js';

export interface CloneOptions {
  /** The clone's name (default: Podman's ORIGINAL-clone, then ORIGINAL-clone1, ...). */
  name?: string;
  /** Another image to run the same configuration on (pulled when missing). */
  image?: string;
  /** Limits that replace the original's (--memory, --cpus, ...). */
  limits: LimitFlags;
  /** Remove the original once the clone exists (`force`: a running one too). */
  destroy?: boolean;
  force?: boolean;
  /** Start the clone (detached). */
  run?: boolean;
}

// The original's configuration for the clone whose id is `id`.
export const cloneConfig = (original: ContainerRecord, id: string, limits: ResourceLimits): ContainerConfig => {
  const config: ContainerConfig = structuredClone(original.config);
  // A hostname that was the original's id is the clone's id (and so is $HOSTNAME).
  const own = original.id.slice(0, 12);
  if (config.hostname === own) {
    config.hostname = id.slice(0, 12);
    config.env = config.env.map((e) => (e === `HOSTNAME=${own}` ? `HOSTNAME=${config.hostname}` : e));
  }
  if (Object.keys(limits).length) config.resources = { ...config.resources, ...limits };
  // Allocated again at create (extraNetworks stays for its aliases: see create).
  delete config.networkIp;
  delete config.macAddress;
  delete config.cidfile;
  delete config.pidfile;
  delete config.conmonPidfile;
  if (config.userns?.startsWith('auto')) delete config.idMappings;
  config.mounts = config.mounts?.map(({ sourceId: _, ...m }) => (m.anonymous ? { ...m, source: '' } : m));
  return config;
};

// Podman's name for a clone: NAME-clone, then NAME-clone1, NAME-clone2, ... (the first free one).
export const cloneName = (name: string, taken: (name: string) => boolean): string => {
  const base = `${name.replace(/-clone\d*$/, '')}-clone`;
  if (!taken(base)) return base;
  for (let n = 1; ; n++) if (!taken(`${base}${n}`)) return `${base}${n}`;
};
