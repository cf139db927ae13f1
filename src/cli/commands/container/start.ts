// skiff start [-a] [-i] CONTAINER...
import { Command, Option } from 'commander';
import { CliError } from '../../../errors.js';
import { collect, openEngineFor, parseBool } from '../../engine.js';
import { attachSession } from './attach.js';
import { actOnEach } from './select.js';

interface StartFlags {
  attach?: boolean;
  interactive?: boolean;
  all?: boolean;
  latest?: boolean;
  filter?: string[];
  sigProxy: boolean;
  detachKeys: string;
  sdnotify?: string;
}

export const build = (name = 'start'): Command =>
  new Command(name)
    .description('Start one or more containers')
    .argument('[container...]')
    .option('-a, --attach', "attach to the container's output; exit with its exit code")
    .option('-i, --interactive', 'forward standard input (with --attach)')
    .option('--all', 'start all containers (with --filter: the matching ones)')
    .option('-l, --latest', 'start the newest container')
    .option('-f, --filter <filter>', 'with --all: status=, name=, label=, restart-policy=, ...', collect)
    .option('--sig-proxy [bool]', 'forward signals to the container (with --attach)', parseBool, true)
    .option('--detach-keys <keys>', 'key sequence that detaches', 'ctrl-p,ctrl-q')
    .addOption(
      new Option('--sdnotify <mode>', "for this start under a Type=notify unit, instead of the container's own (generate systemd's units: conmon)").choices([
        'conmon',
        'container',
        'ignore',
      ]),
    )
    .action(async (inputs: string[], flags: StartFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      if (flags.attach) {
        if (inputs.length > 1) throw new CliError('EUSAGE', 'start --attach takes exactly one container');
        const record = engine.containers.find(engine.reports.one(inputs[0], flags.latest));
        const code = await attachSession(
          engine,
          record,
          { stdin: Boolean(flags.interactive) && record.config.interactive, tty: record.config.tty, detachKeys: flags.detachKeys, sigProxy: flags.sigProxy },
          true,
        );
        if (code !== undefined) process.exitCode = code;
        return;
      }
      const sdnotify = flags.sdnotify as 'conmon' | 'container' | 'ignore' | undefined;
      await actOnEach(engine, inputs, flags, (target) => engine.containers.start(target, { sdnotify }));
    });
