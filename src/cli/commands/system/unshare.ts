// skiff unshare [COMMAND...]: runs a command (default: $SHELL) inside skiff's rootless user and
// mount namespaces, as `podman unshare` does: uid 0 there is you, and container mounts are visible.
import { Command } from 'commander';
import { openEngineFor } from '../../engine.js';

export const build = (name = 'unshare'): Command =>
  new Command(name)
    .description('Run a command in skiff\'s rootless user namespace (default: your shell)')
    .argument('[command...]')
    .passThroughOptions()
    .action(async (command: string[], _flags: unknown, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const argv = command.length ? command : [process.env.SHELL || '/bin/sh'];
      const { spawn } = await import('node:child_process');
      const code = await new Promise<number>((resolve) => {
        const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', env: { ...process.env, SKIFF_ROOT: engine.ctx.paths.data } });
        child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 + 9 : 125)));
        child.on('error', (error: NodeJS.ErrnoException) => {
          process.stderr.write(`Error: cannot run ${argv[0]}: ${error.message}\n`);
          resolve(error.code === 'ENOENT' ? 127 : 126);
        });
      });
      process.exitCode = code;
    });
