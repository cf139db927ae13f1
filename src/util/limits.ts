// How large a document skiff reads into memory may be: every registry response, archive member and
// file read whole goes through src/util/bounded-read.ts with one of these caps, so a registry or
// file that sends more (or never stops) costs at most its cap. The registry caps are Podman's
// (containers/image pkg/docker iolimits).

const MiB = 1024 * 1024;

/** A manifest or an index (OCI's and Docker's), from a registry or an archive. */
export const MANIFEST_MAX = 4 * MiB;
/** An image config blob. */
export const IMAGE_CONFIG_MAX = 4 * MiB;
/** A token service's answer (a JWT and a few fields). */
export const TOKEN_RESPONSE_MAX = 1 * MiB;
/** The body of an HTTP error, read only for its message. */
export const ERROR_BODY_MAX = 1 * MiB;
/** A registry listing: a repository's tags, a page of the catalog. */
export const LISTING_MAX = 4 * MiB;
/** An archive's own index: docker-archive manifest.json, oci-layout index.json (Podman: 1 MiB). */
export const ARCHIVE_INDEX_MAX = 1 * MiB;
/** A container's /etc/passwd or /etc/group, read for --user and top. */
export const ACCOUNTS_FILE_MAX = 8 * MiB;
/** auth.json and ~/.docker/config.json: credentials for every registry a user logs in to. */
export const AUTH_FILE_MAX = 1 * MiB;
/** skiff.conf. */
export const CONFIG_FILE_MAX = 1 * MiB;
/** A Dockerfile or Containerfile (a file, or standard input with -f -). */
export const DOCKERFILE_MAX = 4 * MiB;
/** .dockerignore, .containerignore, --ignorefile. */
export const IGNORE_FILE_MAX = 1 * MiB;
/** A build secret given to a RUN step as an environment variable. */
export const BUILD_SECRET_ENV_MAX = 512 * 1024;
/** A secret's data (`secret create`, a driver's lookup): Podman's, less than 512000 bytes. */
export const SECRET_DATA_MAX = 511_999;
/** A build's record of its context's content hashes (build-cache/files-*.json). */
export const CONTEXT_HASHES_MAX = 64 * MiB;

// "4 MiB", "512 KiB", "100 bytes": a cap as messages show it.
export const formatLimit = (bytes: number): string => {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
};
/** A compose file (compose.yaml, an include, an extends file:). */
export const COMPOSE_FILE_MAX = 4 * MiB;
/** A .env file: the project's, --env-file, include's env_file, a service's env_file. */
export const ENV_FILE_MAX = 1 * MiB;
/** The text interpolation may make of one compose file or one .env file (`${A}${A}…` with a large A). */
export const INTERPOLATED_MAX = 16 * MiB;
