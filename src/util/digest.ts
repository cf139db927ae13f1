// Digests as the OCI image spec writes them: "sha256:<64 hex>".
import { createHash } from 'node:crypto';

export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export const sha256Digest = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

// The hex part of a digest, used as a directory name.
export const digestHex = (digest: string): string => digest.slice(digest.indexOf(':') + 1);

// OCI chain IDs: ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
export const chainIds = (diffIds: string[]): string[] => {
  const result: string[] = [];
  for (const diffId of diffIds) {
    const previous = result[result.length - 1];
    result.push(previous === undefined ? diffId : sha256Digest(`${previous} ${diffId}`));
  }
  return result;
};
