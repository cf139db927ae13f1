// skiff tag IMAGE TARGET... / skiff untag IMAGE [NAME...]
import { Command } from 'commander';
import { openEngineFor } from '../../engine.js';

export const buildTag = (name = 'tag'): Command =>
  new Command(name)
    .description('Add names to a local image')
    .argument('<image>')
    .argument('<target...>')
    .action(async (image: string, targets: string[], _flags: unknown, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.images.tag(image, targets);
    });

export const buildUntag = (name = 'untag'): Command =>
  new Command(name)
    .description('Remove names from a local image (all of them when none is given)')
    .argument('<image>')
    .argument('[name...]')
    .action(async (image: string, names: string[], _flags: unknown, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.images.untag(image, names);
    });
