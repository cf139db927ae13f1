// skiff container clone [options] CONTAINER [NAME] [IMAGE]: a new container with the original's
// recorded configuration (Podman's), new limits where given; --destroy removes the original,
// --run starts the clone.
import { Command } from 'commander';
import type { LimitFlags } from '../../../engine/index.js';
import { CliError } from '../../../errors.js';
import { openEngineFor } from '../../engine.js';
import { printLine } from '../../output/print.js';
import { addLimitOptions, pullReporter } from './create.js';

// The limit flags Podman's clone takes (those create's limit flags have).
const CLONE_LIMITS = new Set([
  '--blkio-weight',
  '--blkio-weight-device',
  '--cpu-period',
  '--cpu-quota',
  '--cpu-rt-period',
  '--cpu-rt-runtime',
  '--cpu-shares',
  '--cpus',
  '--cpuset-cpus',
  '--cpuset-mems',
  '--device-read-bps',
  '--device-write-bps',
  '--memory',
  '--memory-reservation',
  '--memory-swap',
  '--memory-swappiness',
]);

interface CloneFlags extends LimitFlags {
  destroy?: boolean;
  force?: boolean;
  name?: string;
  run?: boolean;
  pod?: string;
}

export const build = (name = 'clone'): Command => {
  const cmd = new Command(name)
    .description('Create a copy of a container with its configuration (new limits where given); NAME defaults to ORIGINAL-clone')
    .argument('<container>')
    .argument('[name]', "the clone's name")
    .argument('[image]', 'another image to run the same configuration on')
    .option('--destroy', 'remove the original container once the clone exists')
    .option('-f, --force', 'with --destroy: remove the original even if it runs')
    .option('--name <name>', "the clone's name")
    .option('--run', 'start the clone (detached)')
    .option('--pod <pod>', 'refused: skiff has no pods');
  for (const option of addLimitOptions(new Command()).options) if (CLONE_LIMITS.has(option.long ?? '')) cmd.addOption(option);
  return cmd.action(async (input: string, nameArg: string | undefined, image: string | undefined, flags: CloneFlags, cmd: Command) => {
    if (flags.pod !== undefined) throw new CliError('EUSAGE', `--pod ${flags.pod}: skiff has no pods; clone without --pod`);
    if (flags.force && !flags.destroy) throw new CliError('EUSAGE', 'cannot set --force without --destroy');
    if (nameArg !== undefined && flags.name !== undefined && nameArg !== flags.name)
      throw new CliError('EUSAGE', `two names for the clone (${nameArg} and --name ${flags.name}): give one`);
    const { destroy, force, name: _name, run, pod: _pod, ...limits } = flags;
    const engine = await openEngineFor(cmd);
    await engine.enterUserNamespace();
    const pull = pullReporter(false);
    const record = await engine.containers.clone(input, { name: nameArg ?? flags.name, image, limits, destroy, force, run }, (e) => pull.onEvent(e));
    pull.finish();
    printLine(record.id);
  });
};
