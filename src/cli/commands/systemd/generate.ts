// skiff systemd generate: the systemd user generator itself. systemd runs it with its output dirs at
// every `systemctl --user daemon-reload` (see install-generator); a bad Quadlet file is reported on
// stderr, which systemd keeps in the journal, and the others are still translated.
import { Command } from 'commander';
import { skiffPath } from '../../../util/self.js';
import { generate } from '../../../systemd/generator.js';
import { formatQuadletError } from '../../../systemd/quadlet.js';

export const build = (): Command =>
  new Command('generate')
    .description("The systemd user generator: turns the user's Quadlet files (.container, .volume, .network) into services in NORMAL-DIR")
    .argument('<normal-dir>', 'where the units go (systemd passes $XDG_RUNTIME_DIR/systemd/generator)')
    .argument('[early-dir]', 'passed by systemd, unused')
    .argument('[late-dir]', 'passed by systemd, unused')
    .option('--user', "accepted for Podman's generator's sake: skiff's units are always the user's own")
    .option('--sync', 'NORMAL-DIR lasts and holds other units too: remove the units skiff wrote there before and makes no more')
    .action((normalDir: string, _early: string | undefined, _late: string | undefined, flags: { sync?: boolean }) => {
      const { errors, failures } = generate(normalDir, skiffPath(), process.env, Boolean(flags.sync));
      const lines = [...errors.map(formatQuadletError), ...failures].map((line) => `skiff-generator: ${line}\n`);
      if (lines.length) process.stderr.write(lines.join(''));
      if (failures.length) process.exitCode = 1;
    });
