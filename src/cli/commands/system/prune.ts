// skiff system prune (stopped containers, dangling or unused images) and skiff system reset
// (everything: containers, images, the namespace, the store) — what a CI machine runs to start clean.
import { Command } from 'commander';
import { confirm } from '../../confirm.js';
import { openEngineFor } from '../../engine.js';
import { printLine } from '../../output/print.js';
import { humanSize } from '../../../util/units.js';

export const buildPrune = (name = 'prune'): Command =>
  new Command(name)
    .description('Remove stopped containers and dangling images (all unused images with --all)')
    .option('-a, --all', 'remove all unused images, not only dangling ones')
    .option('--volumes', 'remove volumes no container uses too')
    .option('-f, --force', 'do not ask for confirmation')
    .action(async (flags: { all?: boolean; force?: boolean; volumes?: boolean }, cmd: Command) => {
      if (!(await confirm(`Remove all stopped containers${flags.volumes ? ', unused volumes' : ''} and unused images?`, flags.force))) return;
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const before = engine.system.df();
      const containers = await engine.containers.prune();
      const images = (await engine.images.prune({ all: flags.all })).filter((r) => r.deleted && r.id);
      const volumes = flags.volumes ? await engine.volumes.prune() : [];
      const after = engine.system.df();
      printLine('Deleted Containers');
      for (const c of containers) printLine(c.id);
      printLine('Deleted Images');
      for (const i of images) printLine(i.id!.slice(7));
      if (flags.volumes) {
        printLine('Deleted Volumes');
        for (const v of volumes) printLine(v);
      }
      const size = (r: typeof before) => r.reduce((n, x) => n + x.size, 0);
      printLine(`Total reclaimed space: ${humanSize(Math.max(0, size(before) - size(after)))}`);
    });

export const buildReset = (name = 'reset'): Command =>
  new Command(name)
    .description('Remove all containers, images, volumes and state, and the rootless namespace')
    .option('-f, --force', 'do not ask for confirmation')
    .action(async (flags: { force?: boolean }, cmd: Command) => {
      if (!(await confirm('This removes all containers, images, volumes and skiff state. Continue?', flags.force))) return;
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      await engine.system.reset((id) => engine.containers.remove(id, { force: true }));
    });
