// skiff image exists IMAGE: exit 0 when it is stored, 1 when not (no output either way).
import { Command } from 'commander';
import { openEngineFor } from '../../engine.js';

export const build = (name = 'exists'): Command =>
  new Command(name)
    .description('Check whether an image exists in local storage (exit code 0 or 1)')
    .argument('<image>')
    .action(async (image: string, _flags: unknown, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      if (!engine.images.exists(image)) process.exitCode = 1;
    });
