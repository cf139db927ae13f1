// Reading a container's k8s-file log (`<RFC3339Nano> <stream> <F|P> <text>`), the rotated one
// (`.1`) first; --tail, --since, --until and --follow.
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

export interface LogEntry {
  time: string;
  stream: 'stdout' | 'stderr';
  /** The text with its newline when the line was complete. */
  text: string;
}

export interface LogQuery {
  tail?: number;
  since?: number;
  until?: number;
  /** How often a followed log is looked at (ms; default 100). */
  pollMs?: number;
}

const parseLine = (line: string): LogEntry | undefined => {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const partial = line.slice(b + 1, c) === 'P';
  return { time: line.slice(0, a), stream, text: line.slice(c + 1) + (partial ? '' : '\n') };
};

const timeOf = (entry: LogEntry): number => Date.parse(entry.time);

const parseText = (text: string): LogEntry[] =>
  text
    .split('\n')
    .map(parseLine)
    .filter((e): e is LogEntry => e !== undefined);

const readIfExists = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

const matches = (entry: LogEntry, query: LogQuery): boolean =>
  (query.since === undefined || timeOf(entry) >= query.since) && (query.until === undefined || timeOf(entry) <= query.until);

// --tail counts lines: a partial line and the lines that complete it count as one.
const tailEntries = (entries: LogEntry[], tail: number | undefined): LogEntry[] => {
  if (tail === undefined || tail < 0) return entries;
  let lines = 0;
  let i = entries.length;
  while (i > 0) {
    if (entries[i - 1].text.endsWith('\n')) {
      if (lines === tail) break;
      lines++;
    }
    i--;
  }
  return entries.slice(i);
};

// The log's complete lines, and the offset after them: a line the monitor is still writing (its
// head, text and newline are three writes) is left to followLog, not read as a line cut short.
export const readLog = (path: string, query: LogQuery = {}): { entries: LogEntry[]; offset: number } => {
  const read = readIfExists(path);
  const current = read.slice(0, read.lastIndexOf('\n') + 1);
  const entries = parseText(readIfExists(`${path}.1`) + current).filter((e) => matches(e, query));
  return { entries: tailEntries(entries, query.tail), offset: Buffer.byteLength(current) };
};

// Follows the log from `offset` until `done()` says the container has ended and the log is drained.
export async function* followLog(path: string, offset: number, done: () => boolean, query: LogQuery = {}): AsyncGenerator<LogEntry> {
  let position = offset;
  let rest = '';
  for (;;) {
    const finished = done();
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      size = 0;
    }
    if (size < position) position = 0; // rotated: the new file starts over
    if (size > position) {
      const fd = openSync(path, 'r');
      const buffer = Buffer.alloc(size - position);
      readSync(fd, buffer, 0, buffer.length, position);
      closeSync(fd);
      position = size;
      const text = rest + buffer.toString('utf8');
      const cut = text.lastIndexOf('\n');
      rest = text.slice(cut + 1);
      for (const entry of parseText(text.slice(0, cut + 1))) if (matches(entry, query)) yield entry;
    }
    if (finished) return;
    await new Promise((resolve) => setTimeout(resolve, query.pollMs ?? 100));
  }
}
