import { describe, expect, it } from 'vitest';
import { parseSubidFile, rangesOverlap } from '../../../src/rootless/subid.js';

describe('subid files', () => {
  const text = '# comment\nalice:100000:65536\n1001:200000:1000\nbob:165536:65536\nalice:300000:10\nbroken:line\nalice:x:y\n';
  it('finds ranges by name and by uid', () => {
    expect(parseSubidFile(text, 'alice', 1000)).toEqual([
      { start: 100000, count: 65536 },
      { start: 300000, count: 10 },
    ]);
    expect(parseSubidFile(text, 'carol', 1001)).toEqual([{ start: 200000, count: 1000 }]);
    expect(parseSubidFile(text, 'nobody', 5)).toEqual([]);
  });
  it('detects overlaps', () => {
    expect(rangesOverlap({ start: 100000, count: 65536 }, { start: 165536, count: 10 })).toBe(false);
    expect(rangesOverlap({ start: 100000, count: 65537 }, { start: 165536, count: 10 })).toBe(true);
  });
});
