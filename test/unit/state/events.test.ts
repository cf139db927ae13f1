// The events log's size cap: past it the log moves to events.log.1 (over the one before), so the
// store holds at most about twice the cap; readers see both files, and a reader that follows the
// log (events --stream) sees each event once across a rotation.
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventsReader, readEvents, recordEvent, rotatedEventsFile } from '../../../src/state/events.js';
import { scratchDir } from '../../helpers/scratch.js';

const event = (i: number) => ({ Type: 'container' as const, Status: 'create', ID: `id-${i}` });

describe('the events log', () => {
  it('rotates past its cap: bounded, and the newest events kept in order', () => {
    const file = join(scratchDir('skiff-events-'), 'events.log');
    const cap = 2000;
    for (let i = 0; i < 200; i++) recordEvent(file, event(i), cap);
    const line = readFileSync(file, 'utf8').split('\n')[0].length + 1;
    expect(statSync(file).size).toBeLessThanOrEqual(cap + line);
    expect(statSync(rotatedEventsFile(file)).size).toBeLessThanOrEqual(cap + line);
    const ids = readEvents(file).map((e) => e.ID);
    // The last ones, every one of them, oldest first; the first ones gone.
    expect(ids.length).toBeGreaterThan(cap / line);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, k) => `id-${200 - ids.length + k}`));
  });

  it('grows without a cap of 0', () => {
    const file = join(scratchDir('skiff-events-'), 'events.log');
    for (let i = 0; i < 50; i++) recordEvent(file, event(i), 0);
    expect(existsSync(rotatedEventsFile(file))).toBe(false);
    expect(readEvents(file)).toHaveLength(50);
  });

  it('is followed through a rotation: each event once, a line written in two parts whole', () => {
    const file = join(scratchDir('skiff-events-'), 'events.log');
    const cap = 1500;
    const next = eventsReader(file);
    expect(next()).toEqual([]);
    const seen: string[] = [];
    for (let i = 0; i < 100; i++) {
      recordEvent(file, event(i), cap);
      if (i % 7 === 0) seen.push(...next().map((e) => e.ID));
    }
    // Half a line, then the rest: the reader waits for the whole of it.
    const half = JSON.stringify({ ...event(100), Time: '', TimeNano: 0 });
    appendFileSync(file, half.slice(0, 20));
    seen.push(...next().map((e) => e.ID));
    appendFileSync(file, `${half.slice(20)}\n`);
    seen.push(...next().map((e) => e.ID));
    expect(seen).toEqual(Array.from({ length: 101 }, (_, i) => `id-${i}`));
    expect(existsSync(rotatedEventsFile(file))).toBe(true);
  });
});
