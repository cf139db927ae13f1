// A container's output, as `logs` reads it: the k8s-file log the monitor writes (rotated file
// first), cut by --tail/--since/--until, and followed while the container runs.
import type { LogEntry } from '../monitor/logs.js';
import type { ContainersEngine } from './containers.js';

export type { LogEntry };

export interface LogsQuery {
  /** The last N lines only (negative: all). */
  tail?: number;
  /** Milliseconds since the epoch. */
  since?: number;
  until?: number;
  /** Keep reading new output until the container stops. */
  follow?: boolean;
  /** How often a followed log is looked at (ms; a build's steps: often). */
  pollMs?: number;
}

export class ContainerLogs {
  constructor(private readonly containers: ContainersEngine) {}

  async *read(input: string, query: LogsQuery): AsyncGenerator<LogEntry> {
    const { readLog, followLog } = await import('../monitor/logs.js');
    const record = this.containers.find(input);
    const path = this.containers.logPath(record);
    const { entries, offset } = readLog(path, query);
    yield* entries;
    if (!query.follow) return;
    const running = () => {
      const s = this.containers.state(record.id).status;
      return s === 'running' || s === 'stopping';
    };
    yield* followLog(path, offset, () => !running(), { until: query.until, pollMs: query.pollMs });
  }
}
