// The launcher's spare network (native/launcher/skiff.c): for a `run` with no network or port
// flags, the launcher starts pasta on a new network namespace while Node boots, and names it in
// SKIFF_SPARE_NET. `run` gives its container that id and hands the spare to its monitor (which
// takes it over) when the container's network is pasta with the arguments the launcher used,
// else discards it. The launcher takes pasta's arguments from RUNROOT/pasta-spare, which `run`
// keeps in step with its own (and removes when the default network is not pasta), so it never
// guesses a configuration.
import { readFileSync, rmSync, statSync } from 'node:fs';
import { startTimeOf } from '../util/proc.js';
import { join } from 'node:path';
import { listDir, writeFileAtomic } from '../util/fs.js';
import { MNT_DETACH, native } from '../util/native.js';
import { pastaHelperArgs } from './pasta.js';

export interface SpareNetwork {
  /** The container id the launcher chose; the namespace file is RUNROOT/netns/ID. */
  id: string;
  netns: string;
  /** pasta's pid file: its pid once the namespace is configured, -1 if it failed. */
  pidFile: string;
  /**
   * From the marker NETNS.spare ("WATCHER PASTA"), which the monitor that adopts the spare renames
   * NETNS.adopted; the watcher removes a spare still marked so.
   */
  watcher: number;
  pasta: number;
}

// A spare's marker, NETNS.spare or NETNS.adopted: the watcher's pid and pasta's.
const readMarker = (path: string): { watcher: number; pasta: number } | undefined => {
  let pids: RegExpExecArray | null;
  try {
    pids = /^(\d+) (\d+)\n$/.exec(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  return pids ? { watcher: Number(pids[1]), pasta: Number(pids[2]) } : undefined;
};

// The spare this process was given, once (the variable is removed: child processes never see it).
// One whose marker is gone or unreadable is left to its watcher.
export const takeSpareNetwork = (runDir: string): SpareNetwork | undefined => {
  const id = process.env.SKIFF_SPARE_NET;
  delete process.env.SKIFF_SPARE_NET;
  if (!id || !/^[a-f0-9]{64}$/.test(id)) return undefined;
  const netns = join(runDir, 'netns', id);
  const pids = readMarker(`${netns}.spare`);
  return pids && { id, netns, pidFile: `${netns}.pid`, ...pids };
};

const templatePath = (runDir: string): string => join(runDir, 'pasta-spare');

// The arguments the launcher starts pasta with: the default network's, with no published port.
const templateOf = (pasta: string): string => [pasta, ...pastaHelperArgs([], '{pidfile}')].map((a) => `${a}\0`).join('');

const readTemplate = (runDir: string): string | undefined => {
  try {
    return readFileSync(templatePath(runDir), 'utf8');
  } catch {
    return undefined;
  }
};

// Keeps the launcher's template true: `pasta`, the binary when the default network is pasta
// (without published ports), else undefined (the launcher then starts none). Whether it was.
export const keepSpareTemplate = (runDir: string, pasta: string | undefined): boolean => {
  const current = readTemplate(runDir);
  const wanted = pasta ? templateOf(pasta) : undefined;
  if (wanted === current) return wanted !== undefined;
  if (wanted) writeFileAtomic(templatePath(runDir), wanted, 0o600, false);
  else rmSync(templatePath(runDir), { force: true });
  return false;
};

// Not for this container: the launcher's watcher stops pasta, then removes the spare's files.
export const discardSpareNetwork = (spare: SpareNetwork): void => {
  try {
    process.kill(spare.watcher, 'SIGTERM');
  } catch {
    // gone: it removed the spare first
  }
};

// The pasta a container's monitor adopted, from NETNS.adopted, if it still runs on that
// namespace: what stops it when the monitor died before it could (its pid checked against
// pasta's command line, which names the namespace file).
export const adoptedPasta = (netns: string): number | undefined => {
  const pid = readMarker(`${netns}.adopted`)?.pasta;
  try {
    return pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(netns) ? pid : undefined;
  } catch {
    return undefined;
  }
};

// Removes the spares whose owner is gone: a marker that still names the CLI (written first by the
// launcher) when that process has ended, or names a watcher that has ended. The watcher removes
// its spare when the CLI ends; a CLI killed before its watcher ran left one no one else removes.
export const sweepSpares = (netnsDir: string): void => {
  const files = listDir(netnsDir);
  for (const file of files) {
    const id = /^([a-f0-9]{64})\.spare$/.exec(file)?.[1];
    if (!id) continue;
    const netns = join(netnsDir, id);
    let text: string;
    try {
      text = readFileSync(`${netns}.spare`, 'utf8');
    } catch {
      continue;
    }
    const pids = /^(\d+) (\d+)\n/.exec(text);
    const owner = Number(pids?.[1] ?? /^(\d+)\n/.exec(text)?.[1]);
    // (An empty marker: where O_TMPFILE is refused, a launcher killed between making it and writing
    // it, or one at work now; the launcher names its marker only once its pid is in it elsewhere.)
    if (owner ? startTimeOf(owner) !== undefined : Date.now() - statSync(`${netns}.spare`).mtimeMs < 1000) continue;
    const pasta = Number(pids?.[2]);
    try {
      if (pasta && readFileSync(`/proc/${pasta}/cmdline`, 'utf8').split('\0').includes(netns)) process.kill(pasta, 'SIGKILL');
    } catch {
      // gone
    }
    try {
      native().umount(netns, MNT_DETACH);
    } catch {
      // not mounted
    }
    for (const path of [netns, `${netns}.pid`, `${netns}.spare`]) rmSync(path, { force: true });
  }
};
