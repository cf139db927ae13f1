// skiff systemd install-generator [--uninstall] [--dir DIR]: makes Quadlet files become units. As
// root, a generator script where systemd runs it for every user; as a user (systemd runs no
// generator from a home), skiff-quadlet.path and .service, which write the units into
// ~/.local/share/systemd/user whenever a Quadlet file changes (src/systemd/generator-install.ts).
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { skiffPath } from '../../../util/self.js';
import { configHome, generate, homeDir } from '../../../systemd/generator.js';
import {
  checkRootOwned,
  defaultGeneratorDir,
  installGenerator,
  installUserUnits,
  quadletUserUnits,
  runsGenerators,
  uninstallGenerator,
  uninstallUserUnits,
  USER_GENERATOR_DIRS,
} from '../../../systemd/generator-install.js';
import { formatQuadletError } from '../../../systemd/quadlet.js';
import { findHelperBinary, runHelper } from '../../../util/exec.js';
import { log } from '../../../util/log.js';
import { printLine } from '../../output/print.js';

const RELOAD = 'systemctl --user daemon-reload';

// Tells the user's manager, where there is one (quietly: the next login does it too).
const reload = async (...then: string[][]): Promise<boolean> => {
  const systemctl = findHelperBinary('systemctl');
  if (!systemctl) return false;
  try {
    await runHelper(systemctl, ['--user', 'daemon-reload']);
    for (const args of then) await runHelper(systemctl, ['--user', ...args]);
    return true;
  } catch (error) {
    log.debug(`systemctl --user: ${(error as Error).message}`);
    return false;
  }
};

// Without root and without --dir: the two user units, and the units of the files there now.
const rootless = async (uninstall: boolean): Promise<void> => {
  const unitDir = join(configHome(), 'systemd', 'user');
  if (uninstall) {
    const removed = uninstallUserUnits(unitDir);
    if (!removed.length) return printLine(`No Quadlet units of skiff's in ${unitDir}`);
    for (const path of removed) printLine(`Removed ${path}`);
    await reload();
    return printLine('The units made from Quadlet files stay in ~/.local/share/systemd/user until you remove them');
  }
  const outDir = join(process.env.XDG_DATA_HOME || join(homeDir(), '.local', 'share'), 'systemd', 'user');
  const quadlets = join(configHome(), 'containers', 'systemd');
  for (const path of installUserUnits(unitDir, quadletUserUnits(skiffPath(), quadlets, outDir))) printLine(`Installed ${path}`);
  const { written, errors } = generate(outDir, skiffPath(), process.env, true);
  for (const error of errors) log.warn(formatQuadletError(error));
  printLine(`Units from ${quadlets}: ${written.length ? written.join(', ') : 'none yet'} (in ${outDir}; remade whenever a file there changes)`);
  const live = await reload(['start', 'skiff-quadlet.path']);
  printLine(`Next: ${live ? '' : `${RELOAD}, then `}systemctl --user start NAME for NAME.container`);
};

export const build = (): Command =>
  new Command('install-generator')
    .description('Make Quadlet files (~/.config/containers/systemd) become systemd units: a generator as root, or two user units without root')
    .option('--uninstall', 'remove it (only what skiff wrote)')
    .option('--dir <dir>', 'put the generator script here (default: /etc/systemd/user-generators as root, for every user)')
    .action(async (flags: { uninstall?: boolean; dir?: string }) => {
      if (process.getuid?.() !== 0 && !flags.dir) return rootless(Boolean(flags.uninstall));
      const dir = resolve(flags.dir ?? defaultGeneratorDir());
      if (flags.uninstall) {
        const report = uninstallGenerator(dir);
        if (!report.existed) return printLine(`No generator of skiff's at ${report.path}`);
        printLine(`Removed ${report.path}`);
        return printLine(`Next: ${RELOAD} (the units it made go away)`);
      }
      if (runsGenerators(dir)) checkRootOwned(skiffPath());
      const report = installGenerator(dir, skiffPath());
      printLine(`${report.existed ? 'Replaced' : 'Installed'} the Quadlet generator: ${report.path}`);
      if (!report.searched)
        log.warn(`systemd runs user generators only from ${USER_GENERATOR_DIRS.join(', ')}, so not this one: without --dir, skiff installs one where it runs`);
      printLine(
        `Next: ${RELOAD}${process.getuid?.() === 0 && !flags.dir ? ' as each user (or log in again)' : ''}, then systemctl --user start NAME for NAME.container`,
      );
    });
