// skiff compose start|stop|restart|kill|rm|pause|unpause: the services' containers changed in
// dependency order (src/engine/compose-ops.ts), with docker compose v2's flags and messages.
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { openEngineFor } from '../../engine.js';
import { loadFor } from './compose.js';
import { progress, seconds } from './ops.js';

export const buildStart = (): Command =>
  new Command('start')
    .description('Start the services’ existing containers')
    .argument('[services...]')
    .action(async (services: string[], _flags: unknown, cmd: Command) => {
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { start } = await import('../../../engine/compose-ops.js');
      await start(engine, project, services, progress);
    });

export const buildStop = (): Command =>
  new Command('stop')
    .description('Stop the services’ containers, dependants first')
    .argument('[services...]')
    .option('-t, --timeout <seconds>', 'seconds to wait for each container to stop before killing it')
    .action(async (services: string[], flags: { timeout?: string }, cmd: Command) => {
      const timeout = seconds('--timeout', flags.timeout);
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { stop } = await import('../../../engine/compose-ops.js');
      await stop(engine, project, services, timeout, progress);
    });

export const buildRestart = (): Command =>
  new Command('restart')
    .description('Restart the services’ containers, dependencies first')
    .argument('[services...]')
    .option('-t, --timeout <seconds>', 'seconds to wait for each container to stop before killing it')
    .option('--no-deps', "don't restart the services that depend on these with restart: true")
    .action(async (services: string[], flags: { timeout?: string; deps: boolean }, cmd: Command) => {
      const timeout = seconds('--timeout', flags.timeout);
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { restart } = await import('../../../engine/compose-ops.js');
      await restart(engine, project, services, { timeout, noDeps: !flags.deps }, progress);
    });

export const buildKill = (): Command =>
  new Command('kill')
    .description('Force stop the services’ containers')
    .argument('[services...]')
    .option('-s, --signal <signal>', 'the signal to send', 'SIGKILL')
    .option('--remove-orphans', 'also kill the containers of services the files no longer define')
    .action(async (services: string[], flags: { signal: string; removeOrphans?: boolean }, cmd: Command) => {
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { kill } = await import('../../../engine/compose-ops.js');
      if (!(await kill(engine, project, services, flags, progress))) process.stderr.write('No container to kill\n');
    });

// Compose's confirmation: on a terminal "? MESSAGE (y/N)"; else MESSAGE and one line read from
// standard input (y, yes, true or 1 confirm).
const confirm = async (message: string): Promise<boolean> => {
  const tty = process.stdin.isTTY === true;
  process.stdout.write(tty ? `? ${message} (y/N) ` : message);
  const rl = createInterface({ input: process.stdin });
  const answer = await new Promise<string>((resolve) => {
    rl.once('line', resolve);
    rl.once('close', () => resolve(''));
  });
  rl.close();
  return ['y', 'yes', 'true', 't', '1'].includes(answer.trim().toLowerCase());
};

export const buildRm = (): Command =>
  new Command('rm')
    .description('Remove the services’ stopped containers')
    .argument('[services...]')
    .option('-f, --force', "don't ask to confirm removal")
    .option('-s, --stop', 'stop the containers first, if required')
    .option('-v, --volumes', 'remove the anonymous volumes attached to the containers')
    .action(async (services: string[], flags: { force?: boolean; stop?: boolean; volumes?: boolean }, cmd: Command) => {
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      // (In the user namespace before asking: entering it re-runs the command, which would ask again.)
      await engine.enterUserNamespace();
      const ops = await import('../../../engine/compose-ops.js');
      if (flags.stop) await ops.stop(engine, project, services, undefined, progress);
      const rows = ops.removable(engine, project, services);
      if (!rows.length) return void process.stderr.write('No stopped containers\n');
      const message = `Going to remove ${rows.map((r) => r.record.name).join(', ')}`;
      if (flags.force) process.stdout.write(`${message}\n`);
      else if (!(await confirm(message))) return;
      await ops.remove(engine, rows, { volumes: flags.volumes }, progress);
    });

const buildPauseLike = (name: 'pause' | 'unpause'): Command =>
  new Command(name)
    .description(name === 'pause' ? 'Pause the services’ containers' : 'Unpause the services’ containers')
    .argument('[services...]')
    .action(async (services: string[], _flags: unknown, cmd: Command) => {
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { pause } = await import('../../../engine/compose-ops.js');
      await pause(engine, project, services, name === 'pause', progress);
    });

export const buildPause = (): Command => buildPauseLike('pause');
export const buildUnpause = (): Command => buildPauseLike('unpause');
