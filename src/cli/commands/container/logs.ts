// skiff logs [-f] [--tail N] [--since T] [--until T] [-t] CONTAINER
import { Command } from 'commander';
import type { LogEntry } from '../../../engine/index.js';
import { CliError } from '../../../errors.js';
import { parseTime } from '../../../util/time.js';
import { openEngineFor } from '../../engine.js';

interface LogsFlags {
  follow?: boolean;
  tail?: string;
  since?: string;
  until?: string;
  timestamps?: boolean;
}

export const build = (name = 'logs'): Command =>
  new Command(name)
    .description("Show a container's output")
    .argument('<container>')
    .option('-f, --follow', 'keep printing new output until the container stops')
    .option('-n, --tail <lines>', 'only the last N lines (-1: all)')
    .option('--since <time>', 'only output since this time (timestamp, unix time or duration such as 10m)')
    .option('--until <time>', 'only output until this time')
    .option('-t, --timestamps', 'prefix each line with its time')
    .action(async (input: string, flags: LogsFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const tail = flags.tail === undefined ? undefined : Number(flags.tail);
      if (tail !== undefined && !Number.isInteger(tail)) throw new CliError('EUSAGE', `invalid --tail "${flags.tail}": use a number of lines`);
      const since = flags.since ? parseTime(flags.since, '--since') : undefined;
      const until = flags.until ? parseTime(flags.until, '--until') : undefined;
      let atLineStart = true;
      const print = (entry: LogEntry) => {
        const out = entry.stream === 'stderr' ? process.stderr : process.stdout;
        out.write(flags.timestamps && atLineStart ? `${entry.time} ${entry.text}` : entry.text);
        atLineStart = entry.text.endsWith('\n');
      };
      for await (const entry of engine.logs.read(input, { tail, since, until, follow: flags.follow })) print(entry);
    });
