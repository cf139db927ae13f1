// skiff save / skiff load: docker-archive and oci-archive files (or standard input/output).
import { Command, Option } from 'commander';
import type { ArchiveFormat } from '../../../engine/index.js';
import { CliError } from '../../../errors.js';
import { openEngineFor } from '../../engine.js';
import { printLine } from '../../output/print.js';

export const buildSave = (name = 'save'): Command =>
  new Command(name)
    .description('Save images to an archive (docker-archive or oci-archive)')
    .argument('<image...>')
    .option('-o, --output <file>', 'write to this file (default: standard output, unless it is a terminal)')
    .addOption(new Option('--format <format>', 'archive format').choices(['docker-archive', 'oci-archive']).default('docker-archive'))
    .option('-q, --quiet', 'print nothing')
    .action(async (images: string[], flags: { output?: string; format: ArchiveFormat }, cmd: Command) => {
      if (!flags.output && process.stdout.isTTY)
        throw new CliError('EUSAGE', 'refusing to write an archive to a terminal: use --output FILE or redirect standard output');
      const engine = await openEngineFor(cmd);
      await engine.images.save(images, flags.format, flags.output ?? process.stdout);
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
