// The output of a project's containers, as `compose logs` and a foreground `compose up` show it:
// entries from the engine's logs (logs.ts), read side by side when followed, merged by time when
// not, and the prefix docker compose puts on each line ("web-1  | "), coloured per container on a
// terminal. The engine hands out entries and text; the CLI writes them.
import type { Engine } from './index.js';
import type { LogEntry, LogsQuery } from './logs.js';

export interface LogSource {
  id: string;
  /** docker compose's short name: SERVICE-N (the container name without the project). */
  name: string;
}

// "cproj-web-1" of project cproj is "web-1" (a container_name stays whole).
export const shortName = (project: string, container: string): string =>
  container.startsWith(`${project}-`) ? container.slice(project.length + 1) : container;

// Every source's entries, each as it comes (follow: until the containers stop); without follow, all
// entries of all sources in time order.
export const readLogs = async (
  engine: Engine,
  sources: LogSource[],
  query: LogsQuery,
  onEntry: (source: LogSource, entry: LogEntry) => void,
): Promise<void> => {
  if (query.follow) {
    await Promise.all(sources.map((s) => followLogs(engine, s, query, onEntry)));
    return;
  }
  const all: { source: LogSource; entry: LogEntry; at: number; seq: number }[] = [];
  let seq = 0;
  for (const source of sources)
    for await (const entry of engine.logs.read(source.id, query)) all.push({ source, entry, at: Date.parse(entry.time), seq: seq++ });
  all.sort((a, b) => a.at - b.at || a.seq - b.seq);
  for (const e of all) onEntry(e.source, e.entry);
};

// One container's entries until it stops.
export const followLogs = async (engine: Engine, source: LogSource, query: LogsQuery, onEntry: (source: LogSource, entry: LogEntry) => void): Promise<void> => {
  for await (const entry of engine.logs.read(source.id, { ...query, follow: true, pollMs: query.pollMs ?? 50 })) onEntry(source, entry);
};

// docker compose's colours, in turn: cyan, yellow, green, magenta, blue, then their bright forms.
const COLORS = ['36', '33', '32', '35', '34', '36;1', '33;1', '32;1', '35;1', '34;1'];

export interface LogFormat {
  /** Colour each container's prefix and status lines (a terminal, without --no-color). */
  color: boolean;
  /** The "NAME  | " prefix (not with --no-log-prefix). */
  prefix: boolean;
  timestamps: boolean;
}

// Lines as docker compose prints them: the name padded past the longest, " | ", the text; a partial
// line's continuation gets no second prefix.
export class LogFormatter {
  private readonly width: number;
  private readonly colors = new Map<string, string>();
  private readonly atLineStart = new Map<string, boolean>();

  constructor(
    names: string[],
    private readonly format: LogFormat,
  ) {
    // (docker compose's width is the longest name plus one: "web-1  | ", "db-1   | ".)
    this.width = Math.max(0, ...names.map((n) => n.length + 1));
    names.forEach((n, i) => this.colors.set(n, COLORS[i % COLORS.length]));
  }

  private paint(name: string, text: string): string {
    if (!this.format.color) return text;
    if (!this.colors.has(name)) this.colors.set(name, COLORS[this.colors.size % COLORS.length]);
    return `\x1b[${this.colors.get(name)}m${text}\x1b[0m`;
  }

  line(name: string, entry: LogEntry): string {
    const start = this.atLineStart.get(name) ?? true;
    this.atLineStart.set(name, entry.text.endsWith('\n'));
    if (!start) return entry.text;
    const head = this.format.prefix ? this.paint(name, `${name.padEnd(this.width)} | `) : '';
    return `${head}${this.format.timestamps ? `${entry.time} ` : ''}${entry.text}`;
  }

  // "web-1 exited with code 0": a line about a container, in its colour.
  status(name: string, message: string): string {
    return `${this.paint(name, `${name} ${message}`)}\n`;
  }
}
