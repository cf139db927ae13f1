// The launcher's `stats` (native/launcher/stats.c) must print the same bytes as Node's: its
// number formatting (format.c) against JavaScript's toFixed and src/util/units.ts humanSize, on
// decimal ties (where printf rounds to even and JavaScript away from zero), carries (999.7 kB is
// "1 MB"), and random values, through a harness compiled here.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { humanDuration, humanSize } from '../../../src/util/units.js';
import { REPO } from '../../helpers/cli.js';

const dir = mkdtempSync('/tmp/skiff-format-');
const harness = join(dir, 'format');
execFileSync('cc', [
  '-O2',
  '-I',
  join(REPO, 'native/launcher'),
  '-o',
  harness,
  join(REPO, 'test/unit/launcher/format-harness.c'),
  join(REPO, 'native/launcher/format.c'),
  join(REPO, 'native/launcher/json.c'),
]);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each value through the harness (one line in, one line out); %.17g keeps the double exact.
const native = (lines: string[]): string[] =>
  execFileSync(harness, { input: `${lines.join('\n')}\n` })
    .toString()
    .trimEnd()
    .split('\n');

// A deterministic spread of values (xorshift), so a failure repeats.
let seed = 0x2545f491;
const random = (): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};

describe('the launcher prints numbers as Node does', () => {
  it('sizes: ties, carries, every unit, random values', () => {
    const bytes = [0, 1, 999, 1000, 1001, 2125, 2135, 999_499, 999_500, 999_700, 4096, 65_536_000, 67_108_864, 25_300_000_000, 1.5e15, 9.995e17, 1.2e18];
    for (let i = 0; i < 3000; i++) bytes.push(Math.floor(random() ** 4 * 1e13));
    const got = native(bytes.map((b) => `s ${b}`));
    expect(got).toEqual(bytes.map(humanSize));
  });

  it('toFixed(2) and toFixed(3): ties, carries, random values', () => {
    const cases: [number, number][] = [
      [0, 2],
      [0.125, 2],
      [0.375, 2],
      [12.345, 2],
      [99.995, 2],
      [99.999, 2],
      [100, 2],
      [0.0005, 3],
      [1.0005, 3],
      [2.5, 0],
      [1234.5678, 3],
    ];
    for (let i = 0; i < 3000; i++) cases.push([random() * 10 ** Math.floor(random() * 6), 2 + (i % 2)]);
    const got = native(cases.map(([x, d]) => `f ${x.toPrecision(17)} ${d}`));
    expect(got).toEqual(cases.map(([x, d]) => x.toFixed(d)));
  });
});

// The launcher's `ps` (native/launcher/ps.c) reads the store's times and says how long ago they were.
describe('the launcher reads and tells times as Node does', () => {
  it('durations: every threshold and random ones', () => {
    const now = Date.parse('2026-12-07T22:10:04.193Z');
    const s = 1000;
    const spans = [-5000, 0, 999, 1000, 1999, 2000, 59_999, 60 * s, 119_999, 120 * s, 3_599_999, 3600 * s, 7_199_999, 7200 * s, 48 * 3600 * s - 1];
    spans.push(48 * 3600 * s, 14 * 86_400 * s - 1, 14 * 86_400 * s, 60 * 86_400 * s, 730 * 86_400 * s - 1, 730 * 86_400 * s, 3650 * 86_400 * s);
    for (let i = 0; i < 2000; i++) spans.push(Math.floor(random() ** 3 * 4e11));
    const got = native(spans.map((span) => `d ${now - span} ${now}`));
    expect(got).toEqual(spans.map((span) => humanDuration(new Date(now - span).toISOString(), now)));
  });

  it("ISO times: Date's, the monitor's nanoseconds, none; anything else is refused", () => {
    const good = ['2026-12-07T22:10:04.193Z', '2026-12-07T22:10:04.193806665Z', '2026-12-07T22:10:04Z', '2026-12-07T22:10:04.1Z', '1999-02-28T23:59:59.999Z'];
    expect(native(good.map((t) => `i ${t}`)).map(Number)).toEqual(good.map((t) => Date.parse(t)));
    const bad = ['2026-12-07T22:10:04.193', '2026-12-07 22:10:04Z', '2026-12-07T22:10:04.Z', '2026-12-07T22:10:04.1234567890Z', '2026-12-07T22:10:04+01:00'];
    expect(native(bad.map((t) => `i ${t}`))).toEqual(bad.map(() => '-1'));
  });

  it('JSON strings: the escapes JSON.stringify writes for ASCII; others refused', () => {
    const good = ['plain', 'sh -c "exit 0"', 'back\\slash', 'a/b', 'tab\there', 'x\u0001y', "it's"];
    expect(native(good.map((t) => `j ${JSON.stringify(t)}`))).toEqual(good);
    const bad = ['"caf\\u00e9"', '"\\u00"', '"cut', '"\\q"'];
    expect(native(bad.map((t) => `j ${t}`))).toEqual(bad.map(() => '-'));
  });
});
