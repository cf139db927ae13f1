// Digests as the OCI image spec writes them: "sha256:<64 hex>".
import { createHash } from 'node:crypto';

export const sha256Digest = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

// OCI chain IDs: ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
export const chainIds = (diffIds: string[]): string[] => {
  const result: string[] = [];
  for (const diffId of diffIds) {
    const previous = result[result.length - 1];
    result.push(previous === undefined ? diffId : sha256Digest(`${previous} ${diffId}`));
  }
  return result;
};
