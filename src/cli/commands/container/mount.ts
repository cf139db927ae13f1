// skiff mount [CONTAINER...] and skiff unmount|umount CONTAINER...: a container's root filesystem
// mounted for the user, as rootless Podman's: inside skiff's mount namespace, so only from within
// `skiff unshare` (where the printed path is valid); without names, the mounted containers.
import { Command } from 'commander';
import { callerSeesMounts } from '../../../engine/container-user-mounts.js';
import type { Engine, MountReport } from '../../../engine/index.js';
import { CliError } from '../../../errors.js';
import { openEngineFor, reportItems } from '../../engine.js';
import { printError } from '../../errors.js';
import { parseFormat, printJson, printLine } from '../../output/print.js';

interface Selection {
  all?: boolean;
  latest?: boolean;
}

// The containers named, or --all of them, or --latest (never names with either).
const targets = (engine: Engine, inputs: string[], flags: Selection, all: () => string[]): string[] => {
  if (inputs.length && (flags.all || flags.latest)) throw new CliError('EUSAGE', '--all and --latest take no container names');
  if (flags.all && flags.latest) throw new CliError('EUSAGE', '--all and --latest cannot be used together');
  if (flags.latest) return [engine.reports.one(undefined, true)];
  return flags.all ? all() : inputs;
};

// Runs `act` on each target, printing what worked and then the failures (the last sets the exit code).
const forEach = async <T>(items: string[], act: (input: string) => Promise<T>, print: (result: T) => void): Promise<void> => {
  const reports: { result?: T; error?: Error }[] = [];
  for (const input of items) {
    try {
      reports.push({ result: await act(input) });
    } catch (error) {
      reports.push({ error: error as Error });
    }
  }
  reportItems(reports, (r) => print(r.result as T), printError);
};

const printMounted = (mounted: MountReport[], flags: { format?: string; trunc?: boolean }): void => {
  const format = parseFormat(flags.format);
  if (format.kind === 'json') {
    printJson(mounted.map((m) => ({ id: m.record.id, Names: [m.record.name], mountpoint: m.path })));
    return;
  }
  if (format.kind !== 'table') throw new CliError('EUSAGE', `unknown --format argument: "${flags.format}" (use json)`);
  for (const m of mounted) printLine(`${flags.trunc === false ? m.record.id : m.record.id.slice(0, 12)}  ${m.path}`);
};

export const buildMount = (name = 'mount'): Command =>
  new Command(name)
    .description("Mount containers' root filesystems and print where (valid inside skiff unshare); without names, list the mounted ones")
    .argument('[container...]')
    .option('-a, --all', 'mount all containers')
    .option('-l, --latest', 'mount the newest container')
    .option('--format <format>', 'json, for the list of mounted containers')
    .option('--no-trunc', 'do not truncate ids in the list')
    .action(async (inputs: string[], flags: Selection & { format?: string; trunc?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      if (!callerSeesMounts())
        throw new CliError(
          'EUSAGE',
          `cannot run command "skiff ${name}" in rootless mode, must execute \`skiff unshare\` first (the mounts are in its namespace)`,
        );
      const items = targets(engine, inputs, flags, () => engine.containers.list().map((row) => row.record.id));
      if (!items.length) return printMounted(engine.mounts.list(), flags);
      await forEach(
        items,
        (input) => engine.mounts.mount(input),
        (m) => printLine(m.path),
      );
    });

export const buildUnmount = (name = 'unmount'): Command =>
  new Command(name)
    .alias('umount')
    .description("Unmount containers' root filesystems (each mount by skiff mount is counted; the last use unmounts)")
    .argument('[container...]')
    .option('-a, --all', 'unmount every container mounted by skiff mount')
    .option('-f, --force', "let go of all of the user's mounts of the container at once")
    .option('-l, --latest', 'unmount the newest container')
    .action(async (inputs: string[], flags: Selection & { force?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const items = targets(engine, inputs, flags, () => engine.mounts.mountedByUser().map((r) => r.id));
      if (!items.length && !flags.all) throw new CliError('EUSAGE', 'name at least one container, or use --all or --latest');
      await forEach(
        items,
        (input) => engine.mounts.unmount(input, flags.force),
        (record) => printLine(record.id),
      );
    });
