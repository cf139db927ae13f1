// Short names ("busybox", "team/app:1") as Podman resolves them (containers-registries.conf(5)):
// an alias names the image outright; else each unqualified-search registry is tried in order.
// short-name-mode "enforcing" refuses an ambiguous name (more than one search registry): Podman
// would ask on a terminal, skiff never prompts. "permissive" (the default) and "disabled" try them all.
import type { SkiffConfig } from '../config/config.js';
import { CliError } from '../errors.js';
import { formatReference, parseReference, withRegistry, type ImageReference } from './reference.js';

// The name as the user typed it, for the alias table: "busybox", "team/app" (no tag or digest).
const shortNameOf = (ref: ImageReference): string[] => {
  const bare = ref.registry === 'docker.io' && ref.repository.startsWith('library/') ? ref.repository.slice('library/'.length) : ref.repository;
  return bare === ref.repository ? [bare] : [bare, ref.repository];
};

// The image a short name's alias names (its tag or digest kept), or undefined.
export const aliasOf = (config: SkiffConfig, ref: ImageReference): ImageReference | undefined => {
  const name = ref.qualified ? undefined : shortNameOf(ref).find((n) => config.aliases[n]);
  return name ? { ...parseReference(config.aliases[name].value), tag: ref.tag, digest: ref.digest } : undefined;
};

// What to pull for `ref`, in order: itself when it names a registry; else its alias; else one
// candidate per search registry.
export const pullCandidates = (config: SkiffConfig, ref: ImageReference): ImageReference[] => {
  if (ref.qualified) return [ref];
  const alias = aliasOf(config, ref);
  if (alias) return [alias];
  const search = config.unqualifiedSearchRegistries;
  if (search.length === 0)
    throw new CliError(
      'EREFERENCE',
      `short name "${shortNameOf(ref)[0]}" did not resolve to an alias and no unqualified-search-registries are defined${config.searchOrigin ? ` in ${config.searchOrigin}` : ''}: use a fully qualified name`,
    );
  const candidates = search.map((registry) => withRegistry(ref, registry));
  // (Podman would prompt on a terminal; skiff never does.)
  if (candidates.length > 1 && config.shortNameMode === 'enforcing')
    throw new CliError(
      'EREFERENCE',
      `short name "${shortNameOf(ref)[0]}" matches several search registries (${search.join(', ')}) and short-name-mode is "enforcing": use a fully qualified name or add an [aliases] entry to registries.conf`,
    );
  return candidates;
};

// A short name's alias as a full name ("mybox" → "registry.example/tools/busybox:latest"), for
// finding the image pulled through it; undefined when `input` is no short name with an alias.
export const aliasedName = (config: SkiffConfig, input: string): string | undefined => {
  let ref: ImageReference;
  try {
    ref = parseReference(input);
  } catch {
    return undefined;
  }
  const alias = aliasOf(config, ref);
  return alias && formatReference(alias);
};
