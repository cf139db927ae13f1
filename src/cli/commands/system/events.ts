// skiff events: the event log (create, start, died, remove, ...), past and (unless --stream=false)
// live, with --since/--until, --filter and --format json, as Podman prints them.
import { Command } from 'commander';
import type { SkiffEvent } from '../../../engine/index.js';
import { parseTime } from '../../../util/time.js';
import { collect, openEngineFor, parseBool } from '../../engine.js';
import { renderTemplate } from '../../output/template.js';
import { parseFormat } from '../../output/print.js';

interface EventsFlags {
  since?: string;
  until?: string;
  filter?: string[];
  format?: string;
  stream: boolean;
}

export const build = (name = 'events'): Command =>
  new Command(name)
    .description('Show events: container create, start, died, remove')
    .option('--since <time>', 'show events since this time (timestamp, unix time or duration such as 10m)')
    .option('--until <time>', 'show events until this time, then stop')
    .option('-f, --filter <filter>', 'type=, event=, container=, image=', collect)
    .option('--format <format>', 'json, or a Go template such as {{.Status}} {{.Name}}')
    .option('--stream [bool]', 'keep waiting for new events (false: print past events and exit)', parseBool, true)
    .option('--no-trunc [bool]', 'accepted for Podman scripts: events always show whole ids')
    .action(async (flags: EventsFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const since = flags.since ? parseTime(flags.since, '--since') : undefined;
      const until = flags.until ? parseTime(flags.until, '--until') : undefined;
      const format = parseFormat(flags.format);
      const print = (e: SkiffEvent) => {
        if (format.kind === 'json') process.stdout.write(`${JSON.stringify(e)}\n`);
        else if (format.kind === 'template') process.stdout.write(`${renderTemplate(format.template, e as never)}\n`);
        else {
          const attributes = Object.entries(e.Attributes ?? {}).map(([k, v]) => `, ${k}=${v}`);
          process.stdout.write(`${e.Time} ${e.Type} ${e.Status} ${e.ID} (image=${e.Image ?? ''}, name=${e.Name ?? ''}${attributes.join('')})\n`);
        }
      };
      for await (const e of engine.events.read({ since, until, filters: flags.filter, stream: flags.stream })) print(e);
    });
