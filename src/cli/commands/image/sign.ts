// skiff image sign --sign-by KEY [--directory DIR] docker://IMAGE...
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import { openEngineFor } from '../../engine.js';

export const buildSign = (): Command =>
  new Command('sign')
    .description('Create a signature file that can be used later to verify the image (docker://REFERENCE of an image in a registry)')
    .argument('<image...>')
    .option('-a, --all', 'Sign all the manifests of the multi-architecture image')
    .option('--authfile <path>', 'Path of the authentication file. Use REGISTRY_AUTH_FILE environment variable to override')
    .option('--cert-dir <path>', 'Pathname of a directory containing TLS certificates and keys')
    .option('-d, --directory <dir>', 'Define an alternate directory to store signatures')
    .option('--sign-by <key>', 'Name of the signing key')
    .action(async (images: string[], flags: { all?: boolean; authfile?: string; certDir?: string; directory?: string; signBy?: string }, cmd: Command) => {
      if (!flags.signBy) throw new CliError('EUSAGE', 'please provide an identity: --sign-by KEY (a key id, fingerprint or user id in your gpg keyring)');
      const engine = await openEngineFor(cmd);
      await engine.images.sign(images, { signBy: flags.signBy, directory: flags.directory, all: flags.all, authfile: flags.authfile, certDir: flags.certDir });
    });
