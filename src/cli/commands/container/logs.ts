// skiff logs [-f] [--tail N] [--since T] [--until T] [-t] CONTAINER
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import type { LogEntry } from '../../../monitor/logs.js';
import { openEngineFor } from '../../engine.js';

interface LogsFlags {
  follow?: boolean;
  tail?: string;
  since?: string;
  until?: string;
  timestamps?: boolean;
}

// "2026-01-02T03:04:05Z", a unix time, or a duration before now ("10m", "1h30m", "45s").
export const parseTime = (value: string, flag: string, now = Date.now()): number => {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const duration = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(value);
  if (duration && value) return now - ((Number(duration[1] ?? 0) * 60 + Number(duration[2] ?? 0)) * 60 + Number(duration[3] ?? 0)) * 1000;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new CliError('EUSAGE', `invalid ${flag} "${value}": use a timestamp (2026-01-02T15:04:05Z), a unix time or a duration (10m)`);
  return parsed;
};

export const build = (name = 'logs'): Command =>
  new Command(name)
    .description('Show a container\'s output')
    .argument('<container>')
    .option('-f, --follow', 'keep printing new output until the container stops')
    .option('-n, --tail <lines>', 'only the last N lines (-1: all)')
    .option('--since <time>', 'only output since this time (timestamp, unix time or duration such as 10m)')
    .option('--until <time>', 'only output until this time')
    .option('-t, --timestamps', 'prefix each line with its time')
    .action(async (input: string, flags: LogsFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const { readLog, followLog } = await import('../../../monitor/logs.js');
      const record = engine.containers.find(input);
      const tail = flags.tail === undefined ? undefined : Number(flags.tail);
      if (tail !== undefined && !Number.isInteger(tail)) throw new CliError('EUSAGE', `invalid --tail "${flags.tail}": use a number of lines`);
      const query = { tail, since: flags.since ? parseTime(flags.since, '--since') : undefined, until: flags.until ? parseTime(flags.until, '--until') : undefined };
      const path = engine.containers.logPath(record);
      let atLineStart = true;
      const print = (entry: LogEntry) => {
        const out = entry.stream === 'stderr' ? process.stderr : process.stdout;
        out.write(flags.timestamps && atLineStart ? `${entry.time} ${entry.text}` : entry.text);
        atLineStart = entry.text.endsWith('\n');
      };
      const { entries, offset } = readLog(path, query);
      entries.forEach(print);
      if (!flags.follow) return;
      const running = () => {
        const s = engine.containers.state(record.id).status;
        return s === 'running' || s === 'stopping';
      };
      for await (const entry of followLog(path, offset, () => !running(), { until: query.until })) print(entry);
    });
