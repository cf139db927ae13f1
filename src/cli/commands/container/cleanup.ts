// skiff container cleanup [--all] [--latest] [--rm] [--rmi] CONTAINER...: what the monitor runs when
// a container's process has exited (record the exit, unmount, network teardown, --rm, restart
// policy). Safe to run again, or by hand: --rm then removes the container, --rmi its image.
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import { openEngineFor } from '../../engine.js';
import { actOnEach } from './select.js';

interface CleanupFlags {
  all?: boolean;
  latest?: boolean;
  exec?: string;
  rm?: boolean;
  rmi?: boolean;
}

export const build = (name = 'cleanup'): Command =>
  new Command(name)
    .description('Clean up the mounts and network of exited containers (run by skiff-monitor)')
    .argument('[container...]')
    .option('-a, --all', 'clean up all containers')
    .option('-l, --latest', 'clean up the newest container')
    .option('--rm', 'then remove the container (unless its restart policy starts it again)')
    .option('--rmi', "then remove the container's image")
    .option('--exec <session>', 'refused: skiff keeps no exec sessions to clean up (an exec ends with its command)')
    .action(async (inputs: string[], flags: CleanupFlags, cmd: Command) => {
      if (flags.exec !== undefined) {
        if (flags.all) throw new CliError('EUSAGE', '--exec and --all conflict');
        if (flags.rmi) throw new CliError('EUSAGE', '--exec and --rmi conflict');
        throw new CliError('EUSAGE', `no exec session with id ${flags.exec}: skiff keeps no exec sessions (an exec ends with its command)`);
      }
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      // (The monitor's own call names one container: nothing to print to, nothing to report.)
      await actOnEach(engine, inputs, flags, (target) => engine.containers.cleanup(target, false, { remove: flags.rm, removeImage: flags.rmi }));
    });
