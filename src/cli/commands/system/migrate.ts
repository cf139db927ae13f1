// skiff system migrate: new rootless namespaces for the next command (Podman's), e.g. after a file
// system the store is on was mounted once the old ones were made.
import { Command } from 'commander';
import { openEngineFor } from '../../engine.js';

export const build = (): Command =>
  new Command('migrate')
    .description('Stop the rootless namespace so the next command makes a new one (no container may run)')
    .action(async (_flags: unknown, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.system.migrate();
    });
