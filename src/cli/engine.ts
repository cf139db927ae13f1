// How a command reaches the engine. The engine's front (stores, lookups) is small and bundled with
// the CLI, since nearly every command needs it; its heavy parts load on demand from inside.
import type { CgroupManagerSetting } from '../config/config.js';
import { CliError } from '../errors.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { openEngine, type Engine } from '../engine/index.js';

export const openEngineFor = async (cmd: Command): Promise<Engine> => {
  const globals = cmd.optsWithGlobals() as {
    root?: string;
    runroot?: string;
    cgroupManager?: CgroupManagerSetting;
    storageDriver?: string;
    runtime?: string;
    runtimeFlag?: string[];
    eventsBackend?: 'file' | 'none';
    hooksDir?: string[];
    volumepath?: string;
    networkConfigDir?: string;
    networkCmdPath?: string;
  };
  // --network-cmd-path: the slirp4netns skiff runs (util/exec.ts looks it up there first).
  if (globals.networkCmdPath) {
    if (!existsSync(globals.networkCmdPath))
      throw new CliError('EUSAGE', `--network-cmd-path ${globals.networkCmdPath}: no such file: give the path of a slirp4netns`);
    process.env.SKIFF_NETWORK_CMD_PATH = resolve(globals.networkCmdPath);
  }
  const runtimeFlags: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) runtimeFlags.unshift(...((c.opts() as { runtimeFlag?: string[] }).runtimeFlag ?? []));
  return openEngine({
    root: globals.root,
    runroot: globals.runroot,
    cgroupManager: globals.cgroupManager,
    // Podman's names: overlay is skiff's auto (native overlay, else fuse-overlayfs), vfs its copies.
    ...(globals.storageDriver ? { rootfs: globals.storageDriver === 'vfs' ? 'copy' : 'auto' } : {}),
    ...(globals.runtime ? { runtime: globals.runtime } : {}),
    // Podman's form: "debug" or "log-format=json" become --debug and --log-format=json. A command's
    // own --runtime-flag (build's) adds to the global ones.
    ...(runtimeFlags.length ? { runtimeFlags: runtimeFlags.map((f) => (f.startsWith('-') ? f : `--${f}`)) } : {}),
    ...(globals.eventsBackend ? { eventsBackend: globals.eventsBackend } : {}),
    ...(globals.hooksDir ? { hooksDirs: globals.hooksDir.map((d) => resolve(d)) } : {}),
    ...(globals.volumepath ? { volumePath: resolve(globals.volumepath) } : {}),
    ...(globals.networkConfigDir ? { networkConfigDir: resolve(globals.networkConfigDir) } : {}),
  });
};

// Parses Podman-style boolean flag values: "--tls-verify", "--tls-verify=false".
export const parseBool = (raw: string | undefined): boolean => {
  // (A short flag written "-H=false" reaches commander as "=false"; pflag reads it as false.)
  const value = raw?.replace(/^=/, '');
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new CliError('EUSAGE', `"${value}" is not a boolean (true or false)`);
};

// Collects a repeatable flag (--filter a --filter b).
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

// Podman's way with per-item reports: print what worked, all errors but the last, then throw the last.
export const reportItems = <T extends { error?: Error }>(reports: T[], printOk: (report: T) => void, printError: (error: Error) => void): void => {
  const errors = reports.filter((r) => r.error).map((r) => r.error!);
  for (const report of reports) if (!report.error) printOk(report);
  for (const error of errors.slice(0, -1)) printError(error);
  if (errors.length) throw errors[errors.length - 1];
};

// `KIND exists NAME`: exit 0 when it does, 1 when not (Podman's), nothing printed.
export const buildExists = (kind: string, exists: (engine: Engine, name: string) => boolean): Command =>
  new Command('exists')
    .description(`Exit 0 if the ${kind} exists, 1 if not`)
    .argument('<name>')
    .action(async (name: string, _flags: unknown, cmd: Command) => {
      if (!exists(await openEngineFor(cmd), name)) process.exitCode = 1;
    });
