// skiff healthcheck run CONTAINER: the container's check, now (the monitor runs it every
// interval). As Podman: nothing and exit 0 when healthy, else the status and exit 1.
import { Command } from 'commander';
import { openEngineFor } from '../../engine.js';
import { printLine } from '../../output/print.js';

export const build = (): Command =>
  new Command('healthcheck').description("Run containers' healthchecks").addCommand(
    new Command('run')
      .description("Run a container's healthcheck: exit 0 when healthy, 1 when not")
      .argument('<container>')
      .action(async (input: string, _flags: unknown, cmd: Command) => {
        const engine = await openEngineFor(cmd);
        await engine.enterUserNamespace();
        const health = await engine.containers.healthcheck(input);
        if (health.Status === 'healthy') return;
        printLine(health.Status);
        process.exitCode = 1;
      }),
  );
