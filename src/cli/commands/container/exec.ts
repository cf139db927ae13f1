// skiff exec [-i] [-t] [-d] [-e K=V] [--env-file F] [-u USER] [-w DIR] [--preserve-fds N] CONTAINER|-l COMMAND [ARG...]
import { Command } from 'commander';
import type { ExecOptions } from '../../../engine/index.js';
import { CliError } from '../../../errors.js';
import { collect, openEngineFor } from '../../engine.js';

type ExecFlags = Omit<ExecOptions, 'command' | 'preserveFds'> & { latest?: boolean; detachKeys: string; preserveFds?: string };

export const build = (name = 'exec'): Command =>
  new Command(name)
    .description('Run a process in a running container')
    .argument('[container]', 'the container (none with --latest)')
    .argument('[command...]')
    .passThroughOptions()
    .option('-i, --interactive', 'keep standard input open')
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .option('-d, --detach', 'run in the background')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable', collect)
    .option('--env-file <file>', 'read environment variables from a file (-e wins)', collect)
    .option('-u, --user <user[:group]>', 'user to run as')
    .option('-w, --workdir <dir>', 'working directory')
    .option('-l, --latest', 'the newest container')
    .option('--preserve-fds <n>', 'pass file descriptors 3 to 3+N-1 on to the process')
    .option(
      '--detach-keys <keys>',
      "checked as attach's; skiff's exec has no session to detach from: leave it with the process's end, or use -d",
      'ctrl-p,ctrl-q',
    )
    .option('--privileged', 'accepted for compatibility')
    .action(async (input: string | undefined, args: string[], flags: ExecFlags, cmd: Command) => {
      const { latest, detachKeys, preserveFds, ...options } = flags;
      const command = latest && input !== undefined ? [input, ...args] : args;
      if (!command.length) throw new CliError('EUSAGE', 'exec needs a command to run: skiff exec CONTAINER COMMAND [ARG...]');
      const { parseDetachKeys } = await import('../../../monitor/attach.js');
      parseDetachKeys(detachKeys);
      const fds = preserveFds === undefined ? undefined : Number(preserveFds);
      if (fds !== undefined && !(Number.isInteger(fds) && fds >= 0))
        throw new CliError('EUSAGE', `invalid --preserve-fds "${preserveFds}": use a number of file descriptors`);
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const target = engine.reports.one(latest ? undefined : input, latest);
      process.exitCode = await engine.containers.exec(target, { command, ...options, preserveFds: fds, stderr: (chunk) => process.stderr.write(chunk) });
    });
