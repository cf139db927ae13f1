// skiff systemd install-generator [--uninstall]: puts the generator (a script running this skiff's
// `systemd generate`) where systemd can run it, or takes it away.
import { resolve } from 'node:path';
import { Command } from 'commander';
import { launcherPath } from '../../../systemd/generator.js';
import { defaultGeneratorDir, installGenerator, uninstallGenerator, USER_GENERATOR_DIRS } from '../../../systemd/generator-install.js';
import { log } from '../../../util/log.js';
import { printLine } from '../../output/print.js';

const RELOAD = 'systemctl --user daemon-reload';

export const build = (): Command =>
  new Command('install-generator')
    .description('Install the Quadlet generator for systemd (a script that runs skiff systemd generate), or remove it')
    .option('--uninstall', 'remove it (only a script skiff wrote)')
    .option('--dir <dir>', 'where (default: /etc/systemd/user-generators as root, for every user; else ~/.config/systemd/user-generators)')
    .action((flags: { uninstall?: boolean; dir?: string }) => {
      const dir = resolve(flags.dir ?? defaultGeneratorDir());
      if (flags.uninstall) {
        const report = uninstallGenerator(dir);
        if (!report.existed) return printLine(`No generator of skiff's at ${report.path}`);
        printLine(`Removed ${report.path}`);
        return printLine(`Next: ${RELOAD} (the units it made go away)`);
      }
      const report = installGenerator(dir, launcherPath());
      printLine(`${report.existed ? 'Replaced' : 'Installed'} the Quadlet generator: ${report.path}`);
      if (!report.searched)
        log.warn(
          `systemd runs user generators only from ${USER_GENERATOR_DIRS.join(', ')}, so not this one: as root, run \`skiff systemd install-generator\` (it installs one in /etc/systemd/user-generators, for every user), or write your units with \`skiff systemd generate ~/.config/systemd/user\` after each change`,
        );
      printLine(
        `Next: ${RELOAD}${process.getuid?.() === 0 && !flags.dir ? ' as each user (or log in again)' : ''}, then systemctl --user start NAME for NAME.container`,
      );
    });
