// skiff manifest push LIST [DESTINATION]
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { CliError } from '../../../errors.js';
import { openEngineFor, parseBool } from '../../engine.js';
import { createPullProgress } from '../../output/progress.js';

interface ManifestPushFlags {
  all: boolean;
  authfile?: string;
  certDir?: string;
  compressionFormat?: string;
  creds?: string;
  digestfile?: string;
  format?: 'oci' | 'v2s2';
  quiet?: boolean;
  rm?: boolean;
  signBy?: string;
  signBySigstorePrivateKey?: string;
  signPassphraseFile?: string;
  tlsVerify?: boolean;
}

// Flags skiff cannot honour, refused by name before anything is sent.
const refuse = (flags: ManifestPushFlags): void => {
  const signing = flags.signBy
    ? '--sign-by'
    : flags.signBySigstorePrivateKey
      ? '--sign-by-sigstore-private-key'
      : flags.signPassphraseFile
        ? '--sign-passphrase-file'
        : '';
  if (signing) throw new CliError('EUSAGE', `${signing}: skiff does not sign images; push unsigned, or sign with skopeo or cosign after the push`);
  if (flags.compressionFormat === 'zstd')
    throw new CliError('EUSAGE', '--compression-format zstd: skiff writes gzip layers only; push without it (layers pulled as zstd are pushed as they are)');
  if (flags.compressionFormat !== undefined && flags.compressionFormat !== 'gzip')
    throw new CliError('EUSAGE', `--compression-format "${flags.compressionFormat}": want gzip`);
};

export const buildManifestPush = (): Command =>
  new Command('push')
    .description('Push a manifest list or image index to a registry')
    .argument('<list>')
    .argument('[destination]', 'where to push it, docker://NAME or NAME (default: the list name)')
    .option('--all [bool]', 'also push the images in the list', parseBool, true)
    .option('--authfile <path>', 'path of the authentication file')
    .option('--cert-dir <dir>', 'TLS certificates for the registry: *.crt CAs, a *.cert and *.key client pair')
    .option('--compression-format <format>', 'compression format to use: gzip (what skiff writes)')
    .option('--creds <username:password>', 'use username:password for accessing the registry')
    .option('--digestfile <path>', 'after copying the image, write the digest of the resulting list to the file')
    .addOption(
      new Option('-f, --format <format>', 'manifest type (oci or v2s2) of the pushed list and its images (default: as stored)').choices(['oci', 'v2s2']),
    )
    .option('-q, --quiet', "don't output progress information when pushing lists")
    .option('--remove-signatures', 'accepted: skiff stores no signatures, so none are copied')
    .option('--rm', 'remove the manifest list if push succeeds')
    .option('--sign-by <fingerprint>', 'refused: skiff does not sign images')
    .option('--sign-by-sigstore-private-key <path>', 'refused: skiff does not sign images')
    .option('--sign-passphrase-file <path>', 'refused: skiff does not sign images')
    .option('--tls-verify [bool]', 'require HTTPS and verify certificates when accessing the registry', parseBool)
    .action(async (list: string, destination: string | undefined, flags: ManifestPushFlags, cmd: Command) => {
      refuse(flags);
      const manifests = await (await openEngineFor(cmd)).manifests();
      const progress = createPullProgress({ quiet: Boolean(flags.quiet), tty: process.stderr.isTTY === true });
      const report = await manifests.push(
        list,
        destination,
        {
          all: flags.all,
          format: flags.format,
          gzipOnly: flags.compressionFormat === 'gzip',
          rm: flags.rm,
          tlsVerify: flags.tlsVerify,
          creds: flags.creds,
          authfile: flags.authfile,
          certDir: flags.certDir,
        },
        (e) => progress.onEvent(e),
      );
      progress.finish();
      if (flags.digestfile) writeFileSync(flags.digestfile, report.digest);
    });
