// The events log: one JSON line per event (container create/start/died/remove, ...), appended with
// O_APPEND so concurrent writers never interleave within a line. `skiff events` reads it.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

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

export const recordEvent = (file: string, event: Omit<SkiffEvent, 'Time' | 'TimeNano'>): void => {
  const now = Date.now();
  const line = `${JSON.stringify({ ...event, Time: new Date(now).toISOString(), TimeNano: now * 1_000_000 })}\n`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, line);
  } catch {
    // Events are a record, not a duty: a full disk must not fail the container operation.
  }
};

export const readEvents = (file: string): SkiffEvent[] => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
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
