// build --output: the result's root filesystem written out besides the image, as Buildah does:
// into a directory (type=local) or a tar (type=tar, a file or standard output). The directory is
// written by the native unpacker, relative to it and never through a symlink: a link the image
// holds, or one an earlier export left there, is replaced, not followed.
import { closeSync, constants, createWriteStream, mkdirSync, openSync } from 'node:fs';
import { CliError, messageOf } from '../errors.js';
import { closeQuietly, openInRoot } from '../util/in-root.js';
import type { BuildOutput } from './builds.js';

const { O_DIRECTORY, O_RDONLY } = constants;

// Writes the tree at `root` (a mounted image root) where `output` says.
export const exportRoot = async (root: string, output: BuildOutput): Promise<void> => {
  const rootFd = openInRoot(root, '/', O_RDONLY | O_DIRECTORY);
  try {
    if (output.type === 'local') {
      const { copyTree } = await import('../storage/copy.js');
      let dirFd: number;
      try {
        mkdirSync(output.dest, { recursive: true, mode: 0o755 });
        dirFd = openSync(output.dest, O_RDONLY | O_DIRECTORY);
      } catch (error) {
        throw new CliError('EUSAGE', `--output ${output.dest}: ${messageOf(error)}`, { cause: error });
      }
      try {
        await copyTree(rootFd, dirFd, { prefix: '', chown: false });
      } finally {
        closeSync(dirFd);
      }
      return;
    }
    const { packTree } = await import('../storage/pack.js');
    const out = typeof output.dest === 'string' ? createWriteStream(output.dest, { mode: 0o644 }) : output.dest;
    await packTree(rootFd, out);
  } finally {
    closeQuietly(rootFd);
  }
};
