// skiff run IMAGE [COMMAND [ARG...]]: create, start, and (unless -d) attach until the container
// exits; skiff's exit code is the container's.
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import { log } from '../../../util/log.js';
import { openEngineFor, parseBool } from '../../engine.js';
import { printLine } from '../../output/print.js';
import { attachSession } from './attach.js';
import { addCreateOptions, createOptionsFrom, pullReporter, type CreateFlags } from './create.js';

interface RunFlags extends CreateFlags {
  detach?: boolean;
  sigProxy: boolean;
  detachKeys: string;
}

export const build = (name = 'run'): Command =>
  addCreateOptions(new Command(name).description('Run a command in a new container'))
    .option('-d, --detach', 'run in the background and print the container id')
    .option('--sig-proxy [bool]', 'forward signals to the container (without -t)', parseBool, true)
    .option('--detach-keys <keys>', 'key sequence that detaches from the container', 'ctrl-p,ctrl-q')
    .option('--passwd [bool]', 'add an /etc/passwd and /etc/group entry for a --user the image lacks (default true)', parseBool)
    .option('--preserve-fds <n>', "pass skiff's file descriptors 3 to 3+N-1 to the container's process")
    .action(async (image: string, command: string[], flags: RunFlags, cmd: Command) => {
      // (Podman takes -d over -a silently; Docker refuses the two, and so does skiff: -a would do nothing.)
      if (flags.detach && flags.attach?.length)
        throw new CliError('EUSAGE', '--attach and --detach cannot be used together: attach is for a container in the foreground');
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const pull = pullReporter(flags.quiet);
      const record = await engine.containers.create(createOptionsFrom(image, command, flags), (e) => pull.onEvent(e), true);
      pull.finish();
      if (flags.detach) {
        await engine.containers.start(record.id);
        printLine(record.id);
        return;
      }
      const code = await attachSession(
        engine,
        record,
        { stdin: Boolean(flags.interactive), tty: Boolean(flags.tty), detachKeys: flags.detachKeys, sigProxy: flags.sigProxy },
        true,
      );
      log.debug(`run: container exited with ${code}`);
      if (code === undefined) return;
      log.debug('run: cleaned up');
      process.exitCode = code;
    });
