// The shape of digests ("sha256:<64 hex>"), without the hashing: cheap to import anywhere.
export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

// The hex part of a digest, used as a directory name.
export const digestHex = (digest: string): string => digest.slice(digest.indexOf(':') + 1);
