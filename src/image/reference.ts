// Image references, normalised as Docker does: "busybox" → docker.io/library/busybox:latest.
import { CliError } from '../errors.js';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';

export interface ImageReference {
  /** Registry host[:port], e.g. "docker.io" or "127.0.0.1:5000". */
  registry: string;
  /** Repository path inside the registry, e.g. "library/busybox". */
  repository: string;
  tag?: string;
  digest?: string;
  /** False when the input named no registry (a short name, resolved through search registries). */
  qualified: boolean;
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const PATH_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const DOMAIN_RE =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;

const invalid = (input: string, why: string): CliError => new CliError('EREFERENCE', `invalid reference "${input}": ${why}`);

// The distribution spec's cap on a repository name, registry included ("docker.io/library/x").
export const NAME_TOTAL_MAX = 255;

// Refuses a name longer than a registry accepts, before any request is made for it.
const checkNameLength = (ref: Pick<ImageReference, 'registry' | 'repository'>, input: string): void => {
  const name = repositoryName(ref);
  if (name.length > NAME_TOTAL_MAX)
    throw invalid(input, `the repository name (${ref.registry}/…) is ${name.length} characters long, registry included; at most ${NAME_TOTAL_MAX} are allowed`);
};

// Parses and normalises a reference; throws EREFERENCE with the reason when it is malformed.
export const parseReference = (input: string): ImageReference => {
  if (input.length === 0) throw invalid(input, 'empty');
  if (input.length > 255 + 128 + 80) throw invalid(input, 'too long');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw invalid(input, `"${digest}" is not a digest (want sha256:<64 hex digits>)`);
    if (digest.startsWith('sha256:') && digest.length !== 71) throw invalid(input, 'a sha256 digest has 64 hex digits');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid(input, `"${tag}" is not a valid tag`);
  }
  let registry = DEFAULT_REGISTRY;
  let repository = rest;
  let qualified = false;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      if (!DOMAIN_RE.test(first)) throw invalid(input, `"${first}" is not a valid registry host`);
      registry = first;
      repository = rest.slice(slash + 1);
      qualified = true;
    }
  }
  if (registry === 'index.docker.io') registry = DEFAULT_REGISTRY;
  if (!PATH_RE.test(repository)) {
    const why = repository !== repository.toLowerCase() ? 'repository names must be lowercase' : 'not a valid repository name';
    throw invalid(input, why);
  }
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  checkNameLength({ registry, repository }, input);
  if (!tag && !digest) tag = DEFAULT_TAG;
  return { registry, repository, tag, digest, qualified };
};

// "registry/repository", the name images are listed under.
export const repositoryName = (ref: Pick<ImageReference, 'registry' | 'repository'>): string => `${ref.registry}/${ref.repository}`;

// The canonical string: name:tag, name@digest, or name:tag@digest.
export const formatReference = (ref: ImageReference): string => `${repositoryName(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;

// A name as the user wrote it ("busybox", "host:5000/x:1") in its canonical stored form.
export const normalizeName = (name: string): string => formatReference(parseReference(name));

// A name for an image made here (build): one without a registry goes under localhost/, as Podman's.
export const localName = (name: string): string => {
  const ref = parseReference(name);
  return ref.qualified ? formatReference(ref) : formatReference(withRegistry(ref, 'localhost'));
};

// Splits a stored name "registry/repo:tag" (no digest) back into repository and tag.
export const splitTaggedName = (name: string): { repository: string; tag: string } => {
  const colon = name.lastIndexOf(':');
  const slash = name.lastIndexOf('/');
  return colon > slash ? { repository: name.slice(0, colon), tag: name.slice(colon + 1) } : { repository: name, tag: DEFAULT_TAG };
};

// The same reference with its registry replaced, for search registries and mirrors.
export const withRegistry = (ref: ImageReference, registry: string): ImageReference => {
  const bare = ref.registry === DEFAULT_REGISTRY && ref.repository.startsWith('library/') && !ref.qualified ? ref.repository.slice(8) : ref.repository;
  const repository = registry === DEFAULT_REGISTRY && !bare.includes('/') ? `library/${bare}` : bare;
  checkNameLength({ registry, repository }, formatReference(ref));
  return { ...ref, registry, repository, qualified: true };
};
