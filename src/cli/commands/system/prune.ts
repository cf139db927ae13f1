// skiff system prune (stopped containers, dangling or unused images) and skiff system reset
// (everything: containers, images, the namespace, the store) — what a CI machine runs to start clean.
import { Command } from 'commander';
import { confirm } from '../../confirm.js';
import { collect, openEngineFor } from '../../engine.js';
import { pruneFilter } from '../../../engine/container-reports.js';
import { pruneMatcher } from '../../../engine/prune-filter.js';
import { printLine } from '../../output/print.js';
import { humanSize } from '../../../util/units.js';

export const buildPrune = (name = 'prune'): Command =>
  new Command(name)
    .description('Remove stopped containers, unused networks and dangling images (all unused images with --all)')
    .option('-a, --all', 'remove all unused images, not only dangling ones')
    .option('--volumes', 'remove volumes no container uses too')
    .option('-f, --force', 'do not ask for confirmation')
    .option('--filter <filter>', 'only what was made before until=TIME, or has label=KEY[=VALUE], or lacks label!=KEY[=VALUE]', collect)
    .action(async (flags: { all?: boolean; force?: boolean; volumes?: boolean; filter?: string[] }, cmd: Command) => {
      const filters = flags.filter ?? [];
      const match = pruneMatcher(filters, 'system prune'); // a bad filter fails before the question
      if (!(await confirm(`Remove all stopped containers, unused networks${flags.volumes ? ', unused volumes' : ''} and unused images?`, flags.force))) return;
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const before = engine.system.df();
      const containers = await engine.containers.prune(pruneFilter(filters));
      const volumes = flags.volumes ? await engine.volumes.prune(filters) : [];
      const images = (await engine.images.prune({ all: flags.all, match })).filter((r) => r.deleted && r.id);
      const networks = await engine.networks.prune(filters);
      const after = engine.system.df();
      // As Podman's: a heading only over a list that has something in it.
      const section = (heading: string, lines: string[]) => {
        if (lines.length) printLine(heading);
        for (const line of lines) printLine(line);
      };
      section(
        'Deleted Containers',
        containers.map((c) => c.id),
      );
      section('Deleted Volumes', volumes);
      section(
        'Deleted Images',
        images.map((i) => i.id!.slice(7)),
      );
      section(
        'Deleted Networks',
        networks.map((n) => n.name),
      );
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
