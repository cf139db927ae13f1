// skiff save / skiff load: docker-archive and oci-archive files (or standard output and input),
// and the directory layouts save writes too (oci-dir, docker-dir).
import { Command, Option } from 'commander';
import type { ArchiveFormat } from '../../../engine/index.js';
import { CliError } from '../../../errors.js';
import { openEngineFor } from '../../engine.js';
import { printLine } from '../../output/print.js';

interface SaveFlags {
  output?: string;
  format: ArchiveFormat;
  multiImageArchive?: boolean;
  compress?: boolean;
  uncompressed?: boolean;
}

export const buildSave = (name = 'save'): Command =>
  new Command(name)
    .description('Save an image to an archive (docker-archive, oci-archive) or a directory (oci-dir, docker-dir)')
    .argument('<image...>', 'the image; more names for it in the archive, or more images with -m')
    .option('-o, --output <path>', 'write to this file or directory (default: standard output, unless it is a terminal)')
    .addOption(
      new Option('--format <format>', 'docker-archive, oci-archive, oci-dir (an OCI layout directory) or docker-dir (a dir: layout, Docker schema 2)')
        .choices(['docker-archive', 'oci-archive', 'oci-dir', 'docker-dir'])
        .default('docker-archive'),
    )
    .option('-m, --multi-image-archive', 'every argument is an image, not a name (docker-archive only)')
    .option('--compress', 'gzip the layers (docker-dir only; default: as stored)')
    .option('--uncompressed', 'keep uncompressed layers so in an OCI layout (default: gzip them)')
    .option('-q, --quiet', 'print nothing')
    .action(async (images: string[], flags: SaveFlags, cmd: Command) => {
      const directory = flags.format === 'oci-dir' || flags.format === 'docker-dir';
      if (directory && !flags.output) throw new CliError('EUSAGE', `--format ${flags.format} writes a directory: name it with --output DIR`);
      if (!flags.output && process.stdout.isTTY)
        throw new CliError('EUSAGE', 'refusing to write an archive to a terminal: use --output FILE or redirect standard output');
      const engine = await openEngineFor(cmd);
      await engine.images.save(images, flags.format, flags.output ?? process.stdout, {
        multiImage: flags.multiImageArchive,
        compress: flags.compress,
        uncompressed: flags.uncompressed,
      });
    });

export const buildLoad = (name = 'load'): Command =>
  new Command(name)
    .description('Load images from a docker-archive or oci-archive (file or standard input)')
    .option('-i, --input <file>', 'read from this file (default: standard input)')
    .option('-q, --quiet', 'print nothing')
    .action(async (flags: { input?: string; quiet?: boolean }, cmd: Command) => {
      if (!flags.input && process.stdin.isTTY) throw new CliError('EUSAGE', 'no archive: use --input FILE or pipe one into standard input');
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const loaded = await engine.images.load(flags.input ?? process.stdin);
      if (flags.quiet) return;
      for (const { image, names } of loaded) {
        if (names.length === 0) printLine(`Loaded image: ${image.id}`);
        for (const n of names) printLine(`Loaded image: ${n}`);
      }
    });
