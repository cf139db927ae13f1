// File helpers with skiff's durability rule: every record is written to a temp file and renamed.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

// A unique sibling name for temp files and directories, so renames stay on one filesystem.
// (Math.random is enough for uniqueness next to the pid, and spares loading node:crypto.)
export const tempSibling = (path: string): string =>
  join(
    dirname(path),
    `.tmp-${basename(path)}-${process.pid}-${Math.floor(Math.random() * 0x100000000)
      .toString(16)
      .padStart(8, '0')}`,
  );

// Writes all of `data` to `fd`: a write may take only part of it. On an error, `onError` gets it
// with what is left unwritten; without one, the error is thrown.
export const writeAllSync = (fd: number, data: string | Buffer, onError?: (error: NodeJS.ErrnoException, rest: Buffer) => void): void => {
  let rest = typeof data === 'string' ? Buffer.from(data) : data;
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (error) {
      if (!onError) throw error;
      onError(error as NodeJS.ErrnoException, rest);
      return;
    }
  }
};

// Writes data atomically: temp file, fsync, rename. Readers see the old or the new content, never half.
// `fsync = false` skips the flush for volatile state (a container's run state, counters), which the
// monitor's files correct after a crash anyway; records that must survive a power cut keep it.
export const writeFileAtomic = (path: string, data: string | Buffer, mode = 0o644, fsync = true): void => {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeAllSync(fd, data);
    if (fsync) fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(tmp, path);
};

export const writeJsonAtomic = (path: string, value: unknown, mode = 0o644, fsync = true): void =>
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, mode, fsync);

// A text file's content; undefined when it cannot be read (gone, or never there: /proc, /sys).
export const readTextIfExists = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

// Reads and parses a JSON file; undefined when it does not exist.
export const readJsonIfExists = <T>(path: string): T | undefined => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(text) as T;
};

// The names in `dir`; none when it does not exist (or cannot be read).
export const listDir = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

// The records of a store directory: `dir/NAME/file` for every NAME that is not a temp (".…") entry
// and has one; none when the directory does not exist.
export const readRecords = <T>(dir: string, file: string): T[] => {
  const names = listDir(dir);
  return names.filter((n) => !n.startsWith('.')).flatMap((n) => readJsonIfExists<T>(join(dir, n, file)) ?? []);
};

// Removes temp entries (".tmp-NAME-PID-RAND") in `dir` whose writer process is gone: what a
// command killed mid-write leaves behind. `remove` deletes one path (trees may be read-only).
export const sweepStaleTemps = (dir: string, remove: (path: string) => void): void => {
  const names = listDir(dir);
  for (const name of names) {
    const match = /^\.tmp-.*-(\d+)-[a-f0-9]{8}$/.exec(name);
    if (match && !existsSync(`/proc/${match[1]}`)) remove(join(dir, name));
  }
};
