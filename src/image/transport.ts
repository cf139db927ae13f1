// Image transports ("transport:details", as Podman's containers/image names them): where an image
// lives outside the store. Parsed here and only here; a name with no known transport is a registry
// reference, as Podman reads it ("localhost:5000/x" names the registry localhost:5000).
import { CliError } from '../errors.js';
import { normalizeName, parseReference } from './reference.js';

export type TransportName = 'docker' | 'containers-storage' | 'docker-archive' | 'oci-archive' | 'oci' | 'dir';

export type TransportReference =
  /** A registry reference ("docker://busybox" is "busybox"). */
  | { transport: 'docker'; name: string }
  /** An image in skiff's own store, by name or id. */
  | { transport: 'containers-storage'; name: string }
  /** A docker-archive file; one of its images by name, or by its place in the archive (@N). */
  | { transport: 'docker-archive'; path: string; name?: string; index?: number }
  /** An OCI image layout, in a tar (oci-archive) or a directory (oci); `name` is a ref.name annotation. */
  | { transport: 'oci-archive' | 'oci'; path: string; name?: string }
  /** containers/image's directory layout: manifest.json, version and one file per blob. */
  | { transport: 'dir'; path: string };

/** The transports that hold an image outside any registry or store. */
export type LayoutReference = Extract<TransportReference, { path: string }>;

export const TRANSPORTS: readonly TransportName[] = ['docker', 'containers-storage', 'docker-archive', 'oci-archive', 'oci', 'dir'];

// An OCI ref.name: containers/image's refname rule (letters, digits and ._-:/@ between them).
const OCI_NAME_RE = /^[A-Za-z0-9]+(?:(?:[._:@+]|--?|\/)[A-Za-z0-9]+)*$/;

const invalid = (input: string, why: string): CliError => new CliError('EREFERENCE', `invalid image reference "${input}": ${why}`);

// Splits "PATH[:REST]" at the first colon (containers/image's rule: a path holds no colon).
const splitPath = (input: string, details: string): { path: string; rest?: string } => {
  const colon = details.indexOf(':');
  const path = colon < 0 ? details : details.slice(0, colon);
  if (!path) throw invalid(input, 'it names no path');
  return colon < 0 ? { path } : { path, rest: details.slice(colon + 1) };
};

// Parses `input` when it starts with a transport skiff knows; undefined when it does not.
export const parseTransport = (input: string): TransportReference | undefined => {
  const colon = input.indexOf(':');
  if (colon <= 0) return undefined;
  const transport = input.slice(0, colon) as TransportName;
  if (!TRANSPORTS.includes(transport)) return undefined;
  const details = input.slice(colon + 1);
  switch (transport) {
    case 'docker': {
      if (!details.startsWith('//')) throw invalid(input, 'a docker transport reference starts with docker://');
      const name = details.slice(2);
      parseReference(name);
      return { transport, name };
    }
    case 'containers-storage': {
      if (details.startsWith('[')) throw invalid(input, 'skiff has one store: name the image without a [driver@root] part');
      if (!details) throw invalid(input, 'it names no image');
      return { transport, name: details };
    }
    case 'docker-archive': {
      const { path, rest } = splitPath(input, details);
      if (rest === undefined || rest === '') return { transport, path };
      if (rest.startsWith('@')) {
        const index = Number(rest.slice(1));
        if (!/^\d+$/.test(rest.slice(1)) || !Number.isSafeInteger(index)) throw invalid(input, `"${rest}" is not an image index (want @0, @1, …)`);
        return { transport, path, index };
      }
      const ref = parseReference(rest);
      if (ref.digest) throw invalid(input, 'a docker-archive names its images by tag, not by digest');
      return { transport, path, name: normalizeName(rest) };
    }
    case 'oci-archive':
    case 'oci': {
      const { path, rest } = splitPath(input, details);
      if (rest === undefined || rest === '') return { transport, path };
      if (!OCI_NAME_RE.test(rest)) throw invalid(input, `"${rest}" is not a valid OCI image name`);
      return { transport, path, name: rest };
    }
    case 'dir': {
      if (!details) throw invalid(input, 'it names no directory');
      return { transport, path: details };
    }
  }
};

// The transport reference as the user would write it, for messages.
export const formatTransport = (ref: TransportReference): string => {
  switch (ref.transport) {
    case 'docker':
      return `docker://${ref.name}`;
    case 'containers-storage':
      return `containers-storage:${ref.name}`;
    case 'docker-archive':
      return `docker-archive:${ref.path}${ref.name ? `:${ref.name}` : ref.index !== undefined ? `:@${ref.index}` : ''}`;
    case 'oci-archive':
    case 'oci':
      return `${ref.transport}:${ref.path}${ref.name ? `:${ref.name}` : ''}`;
    case 'dir':
      return `dir:${ref.path}`;
  }
};

// Whether the reference names an image outside any registry or store (an archive or a directory).
export const isLayout = (ref: TransportReference | undefined): ref is LayoutReference => ref !== undefined && 'path' in ref;

// The name an image copied in from a directory layout gets (Podman's: localhost/ and its path);
// undefined when the path makes no valid name.
export const localNameForPath = (path: string): string | undefined => {
  try {
    return normalizeName(`localhost/${path.replace(/^\/+/, '').replace(/\/+$/, '')}`);
  } catch {
    return undefined;
  }
};
