// The events log: one JSON line per event (container create/start/died/remove, ...), appended with
// O_APPEND so concurrent writers never interleave within a line. `skiff events` reads it. Past
// its size cap (Podman's events_logfile_max_size, 1 MB) it moves to events.log.1 over the older
// one, so the store holds at most twice the cap however many commands run.
import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { native } from '../util/native.js';

export interface SkiffEvent {
  Type: 'container' | 'image';
  Status: string;
  ID: string;
  Name?: string;
  Image?: string;
  Time: string;
  /** Nanoseconds since the epoch, for --since/--until and ordering. */
  TimeNano: number;
  ContainerExitCode?: number;
  Attributes?: Record<string, string>;
}

/** Podman's default events_logfile_max_size ("1m"). */
export const EVENTS_LOG_MAX = 1_000_000;

// The file the log moves to when it rotates (the one before it is dropped).
export const rotatedEventsFile = (file: string): string => `${file}.1`;

// Appends the event; a log past `maxSize` bytes (0: no cap) then rotates.
export const recordEvent = (file: string, event: Omit<SkiffEvent, 'Time' | 'TimeNano'>, maxSize = EVENTS_LOG_MAX): void => {
  const now = Date.now();
  const line = `${JSON.stringify({ ...event, Time: new Date(now).toISOString(), TimeNano: now * 1_000_000 })}\n`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    const fd = openSync(file, 'a', 0o644);
    try {
      writeSync(fd, line);
      if (maxSize > 0 && fstatSync(fd).size > maxSize) rotate(file, fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Events are a record, not a duty: a full disk must not fail the container operation.
  }
};

// Renames the log to FILE.1: a writer that opened it before appends there, where readers still
// find its line. Under the file's own lock and only while the path still names it, so that two
// writers past the cap rotate it once (the lock goes with the descriptor).
const rotate = (file: string, fd: number): void => {
  if (!native().flock(fd, true, false)) return; // another writer is rotating it
  if (statSync(file).ino === fstatSync(fd).ino) renameSync(file, rotatedEventsFile(file));
};

const parseLines = (text: string): SkiffEvent[] => {
  const events: SkiffEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      events.push(JSON.parse(line) as SkiffEvent);
    } catch {
      // a line cut short by a crash
    }
  }
  return events;
};

// The bytes of `path` from `offset` on, with the file's inode; undefined when it does not exist.
const readFrom = (path: string, offset: number): { ino: number; bytes: Buffer } | undefined => {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const { ino, size } = fstatSync(fd);
    const bytes = Buffer.alloc(Math.max(0, size - offset));
    let got = 0;
    while (got < bytes.length) {
      const n = readSync(fd, bytes, got, bytes.length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return { ino, bytes: bytes.subarray(0, got) };
  } finally {
    closeSync(fd);
  }
};

// A reader of the log that, called again, returns only the events appended since (through a
// rotation: the rest of the file it was reading, now FILE.1, then the new one). Its first call
// returns every event both files hold, oldest first.
export const eventsReader = (file: string): (() => SkiffEvent[]) => {
  let started = false;
  let ino: number | undefined;
  let offset = 0;
  let partial = '';
  // The whole lines of what `chunk` adds to the partial line kept from before.
  const lines = (chunk: Buffer): SkiffEvent[] => {
    const text = partial + chunk.toString('utf8');
    const end = text.lastIndexOf('\n') + 1;
    partial = text.slice(end);
    return parseLines(text.slice(0, end));
  };
  return () => {
    const events: SkiffEvent[] = [];
    let current: number | undefined;
    try {
      current = statSync(file).ino;
    } catch {
      current = undefined;
    }
    if (!started) {
      const old = readFrom(rotatedEventsFile(file), 0);
      if (old) events.push(...parseLines(old.bytes.toString('utf8')));
      started = true;
    } else if (ino !== undefined && current !== ino) {
      const old = readFrom(rotatedEventsFile(file), offset);
      if (old?.ino === ino) events.push(...lines(old.bytes));
      ino = undefined;
      offset = 0;
      partial = '';
    }
    const now = readFrom(file, offset);
    if (now) {
      ino = now.ino;
      offset += now.bytes.length;
      events.push(...lines(now.bytes));
    }
    return events;
  };
};

// Every event the log holds (both files), oldest first.
export const readEvents = (file: string): SkiffEvent[] => eventsReader(file)();
