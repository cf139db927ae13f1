import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diffLayers, mergedTree } from '../../../src/storage/layer-diff.js';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

// A layer directory from path -> content (a trailing slash makes a directory); every time the same.
const layer = (name: string, files: Record<string, string>): string => {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    if (path.endsWith('/')) mkdirSync(join(dir, path), { recursive: true });
    else writeFileSync(join(dir, path), content);
  }
  const when = new Date('2024-01-01T00:00:00Z');
  for (const path of Object.keys(files)) utimesSync(join(dir, path), when, when);
  return dir;
};

describe('diffLayers', () => {
  it('reports added, changed and deleted paths between two stacks', () => {
    root = mkdtempSync(join(tmpdir(), 'skiff-diff-'));
    const base = layer('base', { 'a/': '', 'a/x': '1', keep: 'k', gone: 'g' });
    const top = layer('top', { 'a/': '', 'a/x': '22', new: 'n' });
    const other = layer('other', { keep: 'k', gone: 'g' });
    expect(diffLayers([base], [base, top])).toEqual([
      { kind: 'C', path: '/a/x' },
      { kind: 'A', path: '/new' },
    ]);
    expect(diffLayers([base], [other])).toEqual([
      { kind: 'D', path: '/a' },
      { kind: 'D', path: '/a/x' },
    ]);
    expect(diffLayers([], [base]).map((c) => c.kind)).toEqual(['A', 'A', 'A', 'A']);
    expect([...mergedTree([base, top]).keys()].sort()).toEqual(['a', 'a/x', 'gone', 'keep', 'new']);
  });

  it('lets a file over a directory hide what the directory held', () => {
    root = mkdtempSync(join(tmpdir(), 'skiff-diff-'));
    const base = layer('base', { 'd/': '', 'd/inner': 'i' });
    const top = layer('top', { d: 'now a file' });
    expect([...mergedTree([base, top]).keys()]).toEqual(['d']);
    expect(diffLayers([base], [base, top])).toEqual([
      { kind: 'C', path: '/d' },
      { kind: 'D', path: '/d/inner' },
    ]);
  });
});
