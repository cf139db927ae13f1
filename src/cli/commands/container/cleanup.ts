// skiff container cleanup ID: what the monitor runs when a container's process has exited
// (record the exit, unmount, --rm, restart policy). Safe to run again, or by hand.
import { Command } from 'commander';
import { openEngineFor } from '../../engine.js';

export const build = (name = 'cleanup'): Command =>
  new Command(name)
    .description('Clean up after a container that has exited (run by skiff-monitor)')
    .argument('<container...>')
    .action(async (inputs: string[], _flags: unknown, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      for (const input of inputs) await engine.containers.cleanup(input);
    });
