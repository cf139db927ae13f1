// skiff exec [-i] [-t] [-d] [-e K=V] [-u USER] [-w DIR] CONTAINER COMMAND [ARG...]
import { Command } from 'commander';
import type { ExecOptions } from '../../../engine/index.js';
import { collect, openEngineFor } from '../../engine.js';

type ExecFlags = Omit<ExecOptions, 'command'>;

export const build = (name = 'exec'): Command =>
  new Command(name)
    .description('Run a process in a running container')
    .argument('<container>')
    .argument('<command...>')
    .passThroughOptions()
    .option('-i, --interactive', 'keep standard input open')
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .option('-d, --detach', 'run in the background')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable', collect)
    .option('-u, --user <user[:group]>', 'user to run as')
    .option('-w, --workdir <dir>', 'working directory')
    .option('--privileged', 'accepted for compatibility')
    .action(async (input: string, command: string[], flags: ExecFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      process.exitCode = await engine.containers.exec(input, { command, ...flags, stderr: (chunk) => process.stderr.write(chunk) });
    });
