// skiff update [LIMIT FLAGS] CONTAINER: new cgroup limits, applied at once to a running container.
import { Command } from 'commander';
import type { LimitFlags } from '../../../engine/index.js';
import { openEngineFor } from '../../engine.js';
import { printLine } from '../../output/print.js';
import { addLimitOptions } from './create.js';

export const build = (name = 'update'): Command =>
  addLimitOptions(new Command(name).description("Change a container's resource limits (a running one's at once)"))
    .argument('<container>')
    .action(async (input: string, flags: LimitFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      printLine((await engine.containers.update(input, flags)).id);
    });
