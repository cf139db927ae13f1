// skiff systemd check: translates Quadlet files as the generator would, and prints the units (as
// Podman's `quadlet -dryrun` does) or each error as FILE:LINE: message (exit 1).
import { Command } from 'commander';
import { skiffPath } from '../../../util/self.js';
import { checkFiles } from '../../../systemd/generator.js';
import { formatQuadletError } from '../../../systemd/quadlet.js';
import { printLine } from '../../output/print.js';

export const build = (): Command =>
  new Command('check')
    .description('Check Quadlet files: print the units the generator would make, or each error as FILE:LINE: message (exit 1)')
    .argument('<file...>', '.container, .volume or .network files')
    .option('-q, --quiet', 'print only the errors')
    .action((files: string[], flags: { quiet?: boolean }) => {
      const { units, errors } = checkFiles(files, skiffPath());
      if (!flags.quiet)
        for (const unit of units) {
          printLine(`---${unit.unitName}---`);
          printLine(unit.unitText.trimEnd());
          for (const link of unit.links) printLine(`# enabled by the symlink ${link.path} -> ${link.target}`);
        }
      if (errors.length) {
        process.stderr.write(errors.map((e) => `${formatQuadletError(e)}\n`).join(''));
        process.exitCode = 1;
      }
    });
