// skiff events: the event log (create, start, died, remove, ...), past and (unless --stream=false)
// live, with --since/--until, --filter and --format json, as Podman prints them.
import { Command } from 'commander';
import type { SkiffEvent } from '../../../state/events.js';
import { CliError } from '../../../errors.js';
import { collect, openEngineFor, parseBool } from '../../engine.js';
import { renderTemplate } from '../../output/template.js';
import { parseFormat } from '../../output/print.js';
import { parseTime } from '../container/logs.js';

interface EventsFlags {
  since?: string;
  until?: string;
  filter?: string[];
  format?: string;
  stream: boolean;
}

const eventFilter = (filters: string[]): ((e: SkiffEvent) => boolean) => {
  const tests = filters.map((f) => {
    const eq = f.indexOf('=');
    const key = f.slice(0, eq);
    const value = f.slice(eq + 1);
    switch (key) {
      case 'type':
        return (e: SkiffEvent) => e.Type === value;
      case 'event':
      case 'status': {
        // Docker calls it "die", Podman "died": both select the same events.
        const status = value === 'die' ? 'died' : value;
        return (e: SkiffEvent) => e.Status === status;
      }
      case 'container':
        return (e: SkiffEvent) => e.Type === 'container' && (e.Name === value || e.ID.startsWith(value));
      case 'image':
        return (e: SkiffEvent) => e.Image === value;
      default:
        throw new CliError('EUSAGE', `invalid event filter "${f}": use type=, event=, container= or image=`);
    }
  });
  return (e) => tests.every((t) => t(e));
};

export const build = (name = 'events'): Command =>
  new Command(name)
    .description('Show events: container create, start, died, remove')
    .option('--since <time>', 'show events since this time (timestamp, unix time or duration such as 10m)')
    .option('--until <time>', 'show events until this time, then stop')
    .option('-f, --filter <filter>', 'type=, event=, container=, image=', collect)
    .option('--format <format>', 'json, or a Go template such as {{.Status}} {{.Name}}')
    .option('--stream [bool]', 'keep waiting for new events (false: print past events and exit)', parseBool, true)
    .action(async (flags: EventsFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const { readEvents } = await import('../../../state/events.js');
      const since = flags.since ? parseTime(flags.since, '--since') : undefined;
      const until = flags.until ? parseTime(flags.until, '--until') : undefined;
      const match = eventFilter(flags.filter ?? []);
      const format = parseFormat(flags.format);
      const print = (e: SkiffEvent) => {
        if (format.kind === 'json') process.stdout.write(`${JSON.stringify(e)}\n`);
        else if (format.kind === 'template') process.stdout.write(`${renderTemplate(format.template, e as never)}\n`);
        else process.stdout.write(`${e.Time} ${e.Type} ${e.Status} ${e.ID} (image=${e.Image ?? ''}, name=${e.Name ?? ''})\n`);
      };
      const file = engine.containers.eventsFile();
      const inWindow = (e: SkiffEvent) => (since === undefined || e.TimeNano / 1e6 >= since) && (until === undefined || e.TimeNano / 1e6 <= until);
      let seen = readEvents(file);
      // Without --since, a stream shows only what happens from now on (Podman's behaviour).
      if (since !== undefined || !flags.stream) seen.filter((e) => inWindow(e) && match(e)).forEach(print);
      if (!flags.stream) return;
      let count = seen.length;
      for (;;) {
        if (until !== undefined && Date.now() > until) return;
        await new Promise((r) => setTimeout(r, 200));
        seen = readEvents(file);
        for (const e of seen.slice(count)) if (inWindow(e) && match(e)) print(e);
        count = seen.length;
      }
    });
