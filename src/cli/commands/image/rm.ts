// skiff rmi IMAGE... / skiff image rm / skiff image prune
import { CliError } from '../../../errors.js';
import { Command } from 'commander';
import type { RemoveImageReport } from '../../../engine/index.js';
import { collect, openEngineFor, reportItems } from '../../engine.js';
import { printError } from '../../errors.js';
import { printLine } from '../../output/print.js';

const printRemoval = (report: RemoveImageReport): void => {
  for (const name of report.untagged) printLine(`Untagged: ${name}`);
  if (report.deleted && report.id) printLine(`Deleted: ${report.id.slice(7)}`);
};

export const buildRm = (name = 'rmi'): Command =>
  new Command(name)
    .description('Remove images from local storage')
    .argument('[image...]')
    .option('-f, --force', 'remove the image even if it has several names')
    .option('-a, --all', 'remove all images')
    .option('-i, --ignore', 'ignore images that do not exist')
    .option('--no-prune', "keep the dangling parent images a removed image leaves (a build's steps)")
    .action(async (images: string[], flags: { force?: boolean; all?: boolean; ignore?: boolean; prune?: boolean }, cmd: Command) => {
      if (images.length === 0 && !flags.all) throw new CliError('EUSAGE', 'rmi needs at least one image name or id, or --all');
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      let reports = await engine.images.remove(images, { force: flags.force, all: flags.all, noPrune: flags.prune === false });
      // (--force, as --ignore, lets an image that is not there pass: Podman's.)
      if (flags.ignore || flags.force) reports = reports.filter((r) => r.error?.code !== 'ENOIMAGE');
      // Podman's exit codes: 1 for an image that is not there, 2 for one a container uses.
      try {
        reportItems(reports, printRemoval, printError);
      } catch (error) {
        if (!(error instanceof CliError)) throw error;
        if (error.code === 'ENOIMAGE') throw new CliError(error.code, error.message, { exitCode: 1 });
        if (/ is in use by container /.test(error.message)) throw new CliError(error.code, error.message, { exitCode: 2 });
        throw error;
      }
    });

export const buildPrune = (name = 'prune'): Command =>
  new Command(name)
    .description('Remove dangling images (all unused images with --all)')
    .option('-a, --all', 'remove all unused images, not only dangling ones')
    .option('-f, --force', 'do not ask for confirmation (skiff never asks)')
    .option(
      '--filter <filter>',
      'only images that match: label=KEY[=VALUE], label!=KEY[=VALUE], until=TIME, dangling=, reference=, id=, before=, since=',
      collect,
    )
    .option('--external', "accepted: skiff's build containers are containers of its own, which keep their images; none are external")
    .action(async (flags: { all?: boolean; filter?: string[] }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const reports = await engine.images.prune({ all: flags.all, filters: flags.filter });
      reportItems(reports, (r) => r.deleted && r.id && printLine(r.id.slice(7)), printError);
    });
