// skiff unshare [COMMAND...]: runs a command (default: $SHELL) inside skiff's rootless user and
// mount namespaces, as `podman unshare` does: uid 0 there is you, and container mounts are visible.
import { Command } from 'commander';
import { openEngineFor } from '../../engine.js';

export const build = (name = 'unshare'): Command =>
  new Command(name)
    .description("Run a command in skiff's rootless user namespace (default: your shell)")
    .argument('[command...]')
    .option('--rootless-netns', "in the network namespace of skiff's named networks too (their bridges, skiff-dns)")
    .passThroughOptions()
    .action(async (command: string[], flags: { rootlessNetns?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const argv = command.length ? command : [process.env.SHELL || '/bin/sh'];
      process.exitCode = await engine.system.unshare(argv, flags.rootlessNetns);
    });
