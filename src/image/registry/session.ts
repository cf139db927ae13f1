// Opening a registry client the way every command does: TLS and plain-HTTP rules from skiff.conf
// and --tls-verify, credentials from the flags or the auth files; closed when the work is done.
import { findRegistryConfig } from '../../config/config.js';
import type { ImageContext } from '../context.js';
import { lookupCredentials, type Credentials } from './auth.js';
import { RegistryClient } from './client.js';

export interface RemoteOptions {
  tlsVerify?: boolean;
  credentials?: Credentials;
  authFile?: string;
  /** A certs.d-style directory of TLS files used instead of the default ones (--cert-dir). */
  certDir?: string;
}

export interface ClientTarget {
  /** host[:port] to talk to. */
  registry: string;
  /** The image name whose [[registry]] entry decides `insecure`, unless `insecure` is given. */
  name: string;
  insecure?: boolean;
  attempts?: number;
}

export const withRegistryClient = async <T>(
  ctx: ImageContext,
  target: ClientTarget,
  options: RemoteOptions,
  fn: (client: RegistryClient) => Promise<T>,
): Promise<T> => {
  const insecure = target.insecure ?? findRegistryConfig(ctx.config, target.name)?.insecure === true;
  const client = await RegistryClient.create({
    registry: target.registry,
    insecure: insecure || options.tlsVerify === false,
    tlsVerify: options.tlsVerify !== false && !insecure,
    credentials: options.credentials ?? lookupCredentials(target.registry, options.authFile ?? ctx.paths.authFile),
    attempts: target.attempts,
    certDir: options.certDir,
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
};
