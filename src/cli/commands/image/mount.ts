// skiff image mount [IMAGE...] / skiff image unmount IMAGE...: an image's root filesystem,
// read-only, at a path that is valid inside skiff's namespace (see skiff unshare).
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import { openEngineFor, reportItems } from '../../engine.js';
import { printError } from '../../errors.js';
import { parseFormat, printJson, printLine } from '../../output/print.js';

export const buildImageMount = (): Command =>
  new Command('mount')
    .description("Mount images' root filesystems read-only and print where (the path is valid inside skiff unshare); with no image, list the mounted ones")
    .argument('[image...]')
    .option('-a, --all', 'mount every image')
    .option('--format <format>', 'json for a JSON list')
    .action(async (images: string[], flags: { all?: boolean; format?: string }, cmd: Command) => {
      const format = parseFormat(flags.format);
      if (format.kind === 'template') throw new CliError('EUSAGE', `unknown --format argument: "${flags.format}" (image mount takes json)`);
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const reports = images.length || flags.all ? await engine.images.mount(images, { all: flags.all }) : await engine.images.mounted();
      if (images.length === 1 && format.kind !== 'json' && !flags.all) return printLine(reports[0].path);
      if (format.kind === 'json') return printJson(reports.map((r) => ({ id: r.id.slice(7), Names: [r.digest], Repositories: r.names, mountpoint: r.path })));
      for (const r of reports) printLine(`${r.names[0] ?? r.id.slice(7)}  ${r.path}`);
    });

export const buildImageUnmount = (): Command =>
  new Command('unmount')
    .alias('umount')
    .description("Let go of images' mounts: each unmount undoes one mount, the last one unmounts")
    .argument('[image...]')
    .option('-a, --all', 'unmount every mounted image')
    .option('-f, --force', 'unmount at once, however many mounts are held')
    .action(async (images: string[], flags: { all?: boolean; force?: boolean }, cmd: Command) => {
      if (!images.length && !flags.all) throw new CliError('EUSAGE', 'image unmount needs at least one image name or id, or --all');
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const reports = await engine.images.unmount(images, flags);
      reportItems(reports, (r) => printLine(r.id.slice(7)), printError);
    });
