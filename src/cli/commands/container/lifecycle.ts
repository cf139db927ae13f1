// stop, kill, restart, rm, wait, rename and container prune: one line per container, Podman's way
// (what worked is printed, then each failure, and the last failure sets the exit code).
import { rmSync } from 'node:fs';
import { Command } from 'commander';
import { readBoundedFile } from '../../../util/bounded-read.js';
import { CliError } from '../../../errors.js';
import type { Engine } from '../../../engine/index.js';
import { pruneFilter } from '../../../engine/container-reports.js';
import { collect, openEngineFor, reportItems } from '../../engine.js';
import { printError } from '../../errors.js';
import { printLine } from '../../output/print.js';
import { actOnEach } from './select.js';

interface Selection {
  all?: boolean;
  latest?: boolean;
  filter?: string[];
  ignore?: boolean;
  cidfile?: string[];
}

// The ids --cidfile files hold (written by run/create --cidfile); a missing file is no container,
// which --ignore lets pass.
const cidfileIds = (files: string[], ignore: boolean | undefined): string[] =>
  files.flatMap((file) => {
    let text: string;
    try {
      text = readBoundedFile(file, { what: `--cidfile ${file}`, limit: 4096, code: 'EUSAGE' }).toString();
    } catch (error) {
      if (ignore && (error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new CliError('EUSAGE', `cannot read --cidfile ${file}: ${(error as Error).message}`);
    }
    const id = text.trim();
    // (Empty: a create killed between claiming the file and writing the id made no container.)
    if (id === '' && ignore) return [];
    if (!/^[a-f0-9]{64}$/.test(id)) throw new CliError('EUSAGE', `--cidfile ${file} holds no container id`);
    return [id];
  });

// Opens the engine inside the namespace and acts on each selected container (see actOnEach;
// `parallel`: which of them it may act on at once).
const forEach = async (
  cmd: Command,
  inputs: string[],
  flags: Selection,
  act: (engine: Engine, target: string) => Promise<unknown>,
  parallel?: (engine: Engine, targets: string[]) => Set<string>,
): Promise<void> => {
  const engine = await openEngineFor(cmd);
  await engine.enterUserNamespace();
  const targets = [...inputs, ...cidfileIds(flags.cidfile ?? [], flags.ignore)];
  if (!targets.length && flags.cidfile?.length) return; // only id files, none there (--ignore)
  await actOnEach(engine, targets, flags, (target) => act(engine, target), parallel && { jobs: REMOVE_JOBS, together: (all) => parallel(engine, all) });
};

// How many containers rm removes at once: most of a removal is waiting (for the container's end,
// for its monitor), and the CPUs' share is small.
const REMOVE_JOBS = 8;

const seconds = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError('EUSAGE', `invalid timeout "${value}": use a whole number of seconds`);
  return n;
};

const selectionOptions = (cmd: Command): Command =>
  cmd
    .option('-a, --all', 'act on all containers')
    .option('-l, --latest', 'act on the newest container')
    .option('--filter <filter>', 'act on the containers that match', collect)
    .option('--cidfile <file>', 'act on the container whose id the file holds (run --cidfile)', collect);

export const buildStop = (name = 'stop'): Command =>
  selectionOptions(new Command(name).description('Stop running containers (stop signal, then SIGKILL after the timeout)'))
    .argument('[container...]')
    .option('-t, --time <seconds>', 'seconds to wait before killing', seconds)
    .option('-i, --ignore', 'ignore containers that do not exist')
    .action((inputs: string[], flags: Selection & { time?: number }, cmd: Command) =>
      forEach(cmd, inputs, flags, (engine, target) => engine.containers.stop(target, flags.time)),
    );

export const buildKill = (name = 'kill'): Command =>
  selectionOptions(new Command(name).description('Send a signal to running containers'))
    .argument('[container...]')
    .option('-s, --signal <signal>', 'signal to send', 'SIGKILL')
    .action((inputs: string[], flags: Selection & { signal: string }, cmd: Command) =>
      forEach(cmd, inputs, flags, (engine, target) => engine.containers.kill(target, flags.signal)),
    );

export const buildPause = (name: 'pause' | 'unpause'): Command =>
  selectionOptions(new Command(name).description(name === 'pause' ? 'Pause running containers (freeze their cgroup)' : 'Unpause paused containers'))
    .argument('[container...]')
    .action((inputs: string[], flags: Selection, cmd: Command) =>
      forEach(cmd, inputs, flags, (engine, target) => engine.containers.pause(target, name === 'pause')),
    );

export const buildRestart = (name = 'restart'): Command =>
  selectionOptions(new Command(name).description('Restart containers'))
    .argument('[container...]')
    .option('-t, --time <seconds>', 'seconds to wait before killing', seconds)
    .option('--running', 'restart only the running containers (of --all: implied)')
    .action((inputs: string[], flags: Selection & { time?: number; running?: boolean }, cmd: Command) => {
      // As Podman's: --running is every running container, as --all --filter status=running.
      const selection = flags.running ? { ...flags, all: true, filter: [...(flags.filter ?? []), 'status=running'] } : flags;
      return forEach(cmd, inputs, selection, (engine, target) => engine.containers.restart(target, flags.time));
    });

export const buildRm = (name = 'rm'): Command =>
  selectionOptions(new Command(name).description('Remove containers'))
    .argument('[container...]')
    .option('-f, --force', 'remove running containers too (killed first)')
    .option('-v, --volumes', "remove the container's anonymous volumes too")
    .option('-i, --ignore', 'ignore containers that do not exist')
    .option('-t, --time <seconds>', 'accepted for compatibility', seconds)
    .option('--depend', 'remove the containers that depend on it first (--network, --ipc, --pid, --uts container:X, --volumes-from X)')
    .action(async (inputs: string[], flags: Selection & { force?: boolean; volumes?: boolean; depend?: boolean }, cmd: Command) => {
      const dependents = flags.depend ? 'remove' : 'refuse';
      // As Podman's: --force also passes over containers that are not there (exit 0).
      await forEach(
        cmd,
        inputs,
        flags.force ? { ...flags, ignore: true } : flags,
        async (engine, target) => {
          const removed = await engine.containers.remove(target, { force: flags.force, volumes: flags.volumes, dependents });
          // (What it removed first, as Podman prints them: the container itself is printed as given.)
          for (const record of removed.slice(0, -1)) printLine(record.id);
        },
        (engine, targets) => engine.containers.independent(targets),
      ).catch((error) => {
        // Podman's exit code for a container that is not there: 1.
        throw error instanceof CliError && error.code === 'ENOCONTAINER' ? new CliError(error.code, error.message, { exitCode: 1 }) : error;
      });
      // As Podman: the id files of the containers removed go too.
      if (!process.exitCode) for (const file of flags.cidfile ?? []) rmSync(file, { force: true });
    });

export const buildWait = (name = 'wait'): Command =>
  new Command(name)
    .description('Wait for containers to stop and print their exit codes')
    .argument('[container...]')
    .option('--condition <state>', 'stopped (default), exited, running or created', collect)
    .option('-i, --interval <ms>', 'polling interval in milliseconds', '50')
    .option('-l, --latest', 'wait for the newest container')
    .action(async (names: string[], flags: { condition?: string[]; interval: string; latest?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const inputs = flags.latest || !names.length ? [engine.reports.one(names.length ? names.join(' ') : undefined, flags.latest)] : names;
      const reports: { code?: number; error?: Error }[] = [];
      for (const input of inputs) {
        try {
          reports.push({ code: await engine.containers.wait(input, flags.condition ?? ['stopped'], Number(flags.interval) || 50) });
        } catch (error) {
          reports.push({ error: error as Error });
        }
      }
      // (Podman's: the codes are printed, and wait itself exits 0.)
      reportItems(reports, (r) => printLine(String(r.code)), printError);
    });

export const buildRename = (name = 'rename'): Command =>
  new Command(name)
    .description('Rename a container')
    .argument('<container>')
    .argument('<name>')
    .action(async (input: string, newName: string, _flags: unknown, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      await engine.containers.rename(input, newName);
    });

export const buildPrune = (name = 'prune'): Command =>
  new Command(name)
    .description('Remove all stopped containers')
    .option('-f, --force', 'do not ask for confirmation (skiff never asks)')
    .option('--filter <filter>', 'only those made before until=TIME, or with label=KEY[=VALUE], or without label!=KEY[=VALUE]', collect)
    .action(async (flags: { filter?: string[] }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const match = pruneFilter(flags.filter ?? []);
      await engine.enterUserNamespace();
      for (const record of await engine.containers.prune(match)) printLine(record.id);
    });
