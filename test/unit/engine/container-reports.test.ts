// container prune --filter: until=, label=, label!= (pruneFilter), and its one-line usage errors.
import { describe, expect, it } from 'vitest';
import { pruneFilter, type ContainerRow } from '../../../src/engine/container-reports.js';

const NOW = Date.parse('2026-01-02T12:00:00Z');

// A row with only what the filter reads: when it was made and its labels.
const row = (created: string, labels: Record<string, string> = {}): ContainerRow =>
  ({ record: { created, config: { labels } }, state: { status: 'exited' } }) as unknown as ContainerRow;

describe('pruneFilter', () => {
  const old = row('2026-01-02T11:00:00Z', { team: 'a' });
  const recent = row('2026-01-02T11:59:30Z', { team: 'b', keep: '' });

  it('until= takes durations, timestamps and unix times: made before it', () => {
    expect(pruneFilter(['until=10m'], NOW)(old)).toBe(true);
    expect(pruneFilter(['until=10m'], NOW)(recent)).toBe(false);
    expect(pruneFilter(['until=2026-01-02T11:30:00Z'], NOW)(old)).toBe(true);
    expect(pruneFilter([`until=${NOW / 1000}`], NOW)(recent)).toBe(true);
  });

  it('label= and label!= by key or key=value; all filters must hold', () => {
    expect(pruneFilter(['label=team'], NOW)(old)).toBe(true);
    expect(pruneFilter(['label=team=b'], NOW)(old)).toBe(false);
    expect(pruneFilter(['label!=keep'], NOW)(recent)).toBe(false);
    expect(pruneFilter(['label!=team=b'], NOW)(old)).toBe(true);
    expect(pruneFilter(['label=team', 'until=10m'], NOW)(recent)).toBe(false);
    expect(pruneFilter([], NOW)(recent)).toBe(true);
  });

  it('refuses other keys and bad times in one line', () => {
    expect(() => pruneFilter(['status=exited'])).toThrow('invalid filter "status=exited": container prune takes until=, label= and label!=');
    expect(() => pruneFilter(['until!=1h'])).toThrow(/container prune takes until=/);
    expect(() => pruneFilter(['until=yesterday'])).toThrow(/invalid until= filter "yesterday"/);
  });
});
