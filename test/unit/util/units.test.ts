import { describe, expect, it } from 'vitest';
import { goDuration, goTime, humanSize } from '../../../src/util/units.js';

describe("Go's time and duration texts", () => {
  it('prints a time as time.Time.String() does, in the local zone', () => {
    const tz = process.env.TZ;
    try {
      process.env.TZ = 'UTC';
      // podman ps --format '{{.CreatedAt}}'
      expect(goTime('2026-12-08T00:39:04.911718638Z')).toBe('2026-12-08 00:39:04.911718638 +0000 UTC');
      expect(goTime('2026-12-08T00:39:04.910Z')).toBe('2026-12-08 00:39:04.91 +0000 UTC');
      expect(goTime('2026-12-08T00:39:04Z')).toBe('2026-12-08 00:39:04 +0000 UTC');
      // podman top ... stime
      expect(goTime('2026-12-08T00:39:04.5Z', { fraction: false })).toBe('2026-12-08 00:39:04 +0000 UTC');
      process.env.TZ = 'America/New_York';
      expect(goTime('2026-12-08T00:39:04.911Z')).toBe('2026-12-07 19:39:04.911 -0500 EST');
      process.env.TZ = 'Asia/Kolkata';
      expect(goTime('2026-12-08T00:39:04Z')).toBe('2026-12-08 06:09:04 +0530 +0530');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('prints a duration as time.Duration.String() does', () => {
    // podman top ... etime / time
    expect(goDuration(424_664_893_024n)).toBe('7m4.664893024s');
    expect(goDuration(1_664_938_271n)).toBe('1.664938271s');
    expect(goDuration(0n)).toBe('0s');
    expect(goDuration(3_600_000_000_000n)).toBe('1h0m0s');
    expect(goDuration(3_723_500_000_000n)).toBe('1h2m3.5s');
    expect(goDuration(976_000_000n)).toBe('976ms');
    expect(goDuration(1_500n)).toBe('1.5µs');
    expect(goDuration(12n)).toBe('12ns');
    expect(goDuration(-2_000_000_000n)).toBe('-2s');
  });

  it("sizes as Podman's tables print them", () => {
    expect(humanSize(6656)).toBe('6.66 kB');
    expect(humanSize(1998336)).toBe('2 MB');
    expect(humanSize(2006652)).toBe('2.01 MB');
  });
});
