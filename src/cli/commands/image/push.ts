// skiff push IMAGE [DESTINATION]: to a registry, or into an archive or directory layout
// (docker-archive:, oci-archive:, oci:, dir:).
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { CliError } from '../../../errors.js';
import { openEngineFor, parseBool } from '../../engine.js';
import { createPullProgress } from '../../output/progress.js';

interface PushFlags {
  quiet?: boolean;
  tlsVerify?: boolean;
  creds?: string;
  authfile?: string;
  certDir?: string;
  digestfile?: string;
  format?: 'oci' | 'v2s2' | 'v2s1';
  compressionFormat?: 'gzip' | 'zstd';
  compress?: boolean;
  signBy?: string;
  signBySigstorePrivateKey?: string;
  signPassphraseFile?: string;
}

export const build = (name = 'push'): Command =>
  new Command(name)
    .description('Push an image to a registry, or into an archive or a directory layout')
    .argument('<image>', 'local image')
    .argument(
      '[destination]',
      'where to push it (default: the image name); docker://REF, docker-archive:FILE[:NAME], oci-archive:FILE[:NAME], oci:DIR[:NAME], dir:DIR',
    )
    .option('-q, --quiet', 'print no progress')
    .option('--tls-verify [bool]', 'require HTTPS and verify certificates', parseBool)
    .option('--cert-dir <dir>', 'TLS certificates for the registry: *.crt CAs, a *.cert and *.key client pair')
    .option('--creds <user:password>', 'credentials for the registry')
    .option('--authfile <path>', 'auth file to read credentials from')
    .option('--digestfile <path>', 'write the pushed manifest digest to this file')
    .addOption(new Option('-f, --format <format>', 'manifest format: oci or v2s2 (Docker schema 2); default: the stored one').choices(['oci', 'v2s2', 'v2s1']))
    .addOption(
      new Option('--compression-format <format>', 'layer compression: gzip, or zstd (needs the zstd program; an OCI manifest)').choices(['gzip', 'zstd']),
    )
    .option('--compress', 'gzip the layers when pushing to a dir: layout (registry layers are always compressed)')
    .option('--remove-signatures', 'accepted: skiff images carry no signatures to remove')
    .option('--sign-by <key>', 'refused: skiff does not sign images')
    .option('--sign-by-sigstore-private-key <path>', 'refused: skiff does not sign images')
    .option('--sign-passphrase-file <path>', 'refused: skiff does not sign images')
    .option('--disable-content-trust', 'accepted for Docker scripts (no content trust here)')
    .action(async (image: string, destination: string | undefined, flags: PushFlags, cmd: Command) => {
      const sign = flags.signBy
        ? '--sign-by'
        : flags.signBySigstorePrivateKey
          ? '--sign-by-sigstore-private-key'
          : flags.signPassphraseFile
            ? '--sign-passphrase-file'
            : '';
      if (sign) throw new CliError('EUSAGE', `${sign}: skiff does not sign images; push without it and sign with a signing tool (e.g. cosign or skopeo)`);
      if (flags.format === 'v2s1') throw new CliError('EUSAGE', '--format v2s1: Docker schema 1 is deprecated and skiff does not write it; use oci or v2s2');
      const engine = await openEngineFor(cmd);
      const progress = createPullProgress({ quiet: Boolean(flags.quiet), tty: process.stderr.isTTY === true });
      const report = await engine.images.push(
        image,
        destination,
        {
          tlsVerify: flags.tlsVerify,
          creds: flags.creds,
          authfile: flags.authfile,
          certDir: flags.certDir,
          format: flags.format,
          compressionFormat: flags.compressionFormat,
          compress: flags.compress,
        },
        (e) => progress.onEvent(e),
      );
      progress.finish();
      if (flags.digestfile) writeFileSync(flags.digestfile, report.digest);
    });
