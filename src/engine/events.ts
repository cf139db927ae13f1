// The event log (create, start, died, remove, ...), as `events` reads it: past events in a time
// window, then (when streaming) new ones as they are appended, filtered as Podman filters them.
import { CliError } from '../errors.js';
import type { SkiffEvent } from '../state/events.js';
import type { ContainersEngine } from './containers.js';

export type { SkiffEvent };

export interface EventsQuery {
  /** Milliseconds since the epoch. */
  since?: number;
  until?: number;
  /** KEY=VALUE, all of which must hold: type=, event= (or status=), container=, image=. */
  filters?: string[];
  /** Keep waiting for new events (until `until`, if given). */
  stream?: boolean;
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

export class EventsEngine {
  constructor(private readonly containers: ContainersEngine) {}

  async *read(query: EventsQuery): AsyncGenerator<SkiffEvent> {
    const { eventsReader } = await import('../state/events.js');
    const { since, until } = query;
    const match = eventFilter(query.filters ?? []);
    const file = this.containers.eventsFile();
    const wanted = (e: SkiffEvent) => (since === undefined || e.TimeNano / 1e6 >= since) && (until === undefined || e.TimeNano / 1e6 <= until) && match(e);
    // (Each call returns what was appended since the last, through a rotation of the log.)
    const next = eventsReader(file);
    const past = next();
    // Without --since, a stream shows only what happens from now on (Podman's behaviour).
    if (since !== undefined || !query.stream) yield* past.filter(wanted);
    if (!query.stream) return;
    for (;;) {
      if (until !== undefined && Date.now() > until) return;
      await new Promise((r) => setTimeout(r, 200));
      yield* next().filter(wanted);
    }
  }
}
