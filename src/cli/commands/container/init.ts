// skiff init [--all] [--latest] CONTAINER...: each container made in the runtime, its monitor and
// network ready, its process not started (`initialized`, Podman's state) until `start`.
import { Command } from 'commander';
import { openEngineFor } from '../../engine.js';
import { actOnEach } from './select.js';

export const build = (name = 'init'): Command =>
  new Command(name)
    .description('Initialize containers: create them in the runtime without starting them (start runs them)')
    .argument('[container...]')
    .option('-a, --all', 'initialize all containers (those initialized or running already are left as they are)')
    .option('-l, --latest', 'initialize the newest container')
    .action(async (inputs: string[], flags: { all?: boolean; latest?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      await actOnEach(engine, inputs, flags, (target) => engine.containers.init(target, flags.all));
    });
