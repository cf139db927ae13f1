// The prune commands' --filter (network, system prune): until=, label=, label!=; other keys refused.
import { describe, expect, it } from 'vitest';
import { pruneMatcher } from '../../../src/engine/prune-filter.js';

const NOW = Date.parse('2026-01-02T12:00:00Z');
const old = { created: '2026-01-02T11:00:00Z', labels: { team: 'a' } };
const recent = { created: '2026-01-02T11:59:30Z', labels: {} };

describe('pruneMatcher', () => {
  it('selects by age and labels, every filter holding', () => {
    expect(pruneMatcher(['until=10m'], 'network prune', NOW)(old)).toBe(true);
    expect(pruneMatcher(['until=10m'], 'network prune', NOW)(recent)).toBe(false);
    expect(pruneMatcher(['label=team=a', 'until=10m'], 'network prune', NOW)(old)).toBe(true);
    expect(pruneMatcher(['label!=team'], 'network prune', NOW)(old)).toBe(false);
    expect(pruneMatcher(['label!=team'], 'network prune', NOW)(recent)).toBe(true);
  });

  it('names the command in the error for a filter it does not take', () => {
    expect(() => pruneMatcher(['dangling=true'], 'system prune')).toThrow('invalid filter "dangling=true": system prune takes until=, label= and label!=');
  });
});
