// Imports run one way: cli → engine → subsystems → leaves (util/ and the files at src/'s top), and
// the subsystems (image, storage, state, network, ...) never import each other in a circle. This
// test reads every import of src/ (type-only ones too) and names each that breaks the rule.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

// The layer of a file, by its first directory under src/ (a file at the top is a leaf).
const LAYERS: Record<string, number> = { cli: 0, engine: 1, util: 3 };
const SUBSYSTEM = 2;
const LEAF = 3;
const areaOf = (file: string): string => (file.includes('/') ? file.split('/')[0] : '.');
const layerOf = (file: string): number => LAYERS[areaOf(file)] ?? (areaOf(file) === '.' ? LEAF : SUBSYSTEM);

const files = (readdirSync(SRC, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => f.endsWith('.ts'));

// Every relative import of a file (static, `import type`, re-exports and `import()`), as paths under src/.
const importsOf = (file: string): string[] => {
  const source = readFileSync(join(SRC, file), 'utf8');
  const specs = [...source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]);
  return specs.filter((s) => s.startsWith('.')).map((s) => normalize(join(dirname(file), s)).replace(/\.js$/, '.ts'));
};

const edges = files.flatMap((from) => importsOf(from).map((to) => ({ from, to })));

describe('import direction', () => {
  it('finds the imports it checks', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(edges.length).toBeGreaterThan(300);
    expect(edges.every((e) => files.includes(e.to))).toBe(true);
  });

  it('never imports a higher layer: cli → engine → subsystems → util and src/*.ts', () => {
    const upward = edges.filter((e) => layerOf(e.to) < layerOf(e.from)).map((e) => `${e.from} → ${e.to}`);
    expect(upward).toEqual([]);
  });

  it('has no circle between subsystems', () => {
    const graph = new Map<string, Set<string>>();
    for (const { from, to } of edges) {
      const [a, b] = [areaOf(from), areaOf(to)];
      if (a === b || layerOf(from) !== SUBSYSTEM || layerOf(to) !== SUBSYSTEM) continue;
      graph.set(a, (graph.get(a) ?? new Set()).add(b));
    }
    // Depth-first search; a grey node met again closes a circle.
    const state = new Map<string, 'grey' | 'black'>();
    const circles: string[] = [];
    const visit = (node: string, path: string[]): void => {
      state.set(node, 'grey');
      for (const next of graph.get(node) ?? []) {
        if (state.get(next) === 'grey') circles.push([...path, node, next].slice(path.indexOf(next) >= 0 ? path.indexOf(next) : path.length).join(' → '));
        else if (!state.has(next)) visit(next, [...path, node]);
      }
      state.set(node, 'black');
    };
    for (const node of graph.keys()) if (!state.has(node)) visit(node, []);
    const witness = (circle: string) =>
      circle
        .split(' → ')
        .slice(0, -1)
        .map((a, i, all) => {
          const b = circle.split(' → ')[i + 1] ?? all[0];
          const e = edges.find((x) => areaOf(x.from) === a && areaOf(x.to) === b);
          return e ? `${relative('.', e.from)} → ${e.to}` : `${a} → ${b}`;
        })
        .join('; ');
    expect(circles.map(witness)).toEqual([]);
  });

  it('keeps /proc helpers in util/proc.ts: state/ and network/ never import rootless/', () => {
    const wrong = edges.filter((e) => ['state', 'network'].includes(areaOf(e.from)) && areaOf(e.to) === 'rootless').map((e) => `${e.from} → ${e.to}`);
    expect(wrong).toEqual([]);
  });

  it('starts child processes through util/exec.ts only (posix_spawn, never node:child_process)', () => {
    const direct = files.filter((f) => /from\s*'node:child_process'|import\(\s*'node:child_process'\s*\)/.test(readFileSync(join(SRC, f), 'utf8')));
    expect(direct).toEqual([]);
  });
});
