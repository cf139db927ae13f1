// A compose file read into plain values, with the line of every value by its path in the document
// (`services.web.ports[1]`), so later checks can say where a problem is.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

export interface SourceFile {
  file: string;
  value: Value;
  lines: Map<string, number>;
}

export class ComposeFileError extends Error {}

// Joins a path and a key the way messages show it: a.b, a[1].
export const child = (path: string, key: string | number): string => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

// How far a document may go: aliases are expanded into plain values, so a few lines of anchors
// (a "billion laughs") could make billions of them; nesting is walked recursively.
export const ALIAS_VALUES_MAX = 100_000;
export const NESTING_MAX = 256;
// Lines are kept for paths this deep (messages name at most services.web.deploy.resources.limits.x;
// deeper, a message gives the line of the nearest parent): a path is hashed whole to be kept, so
// keeping every one of a deeply nested file would cost its depth for each value.
const LINES_DEPTH = 12;

// A key of a mapping, set as the mapping's own (a key "__proto__" is a key, not a prototype).
const setKey = (o: { [key: string]: Value }, k: string, v: Value): void => {
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
};

// Parses `text` (YAML 1.2 core; merge keys `<<` and anchors as Compose allows them: a key given
// in the mapping wins over a merged one, and an earlier merged mapping over a later one; a key
// given twice is refused).
export const readSource = (text: string, file: string): SourceFile => {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, merge: true, uniqueKeys: false, prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    const line = error.linePos?.[0].line ?? counter.linePos(error.pos[0]).line;
    const message = /call stack/i.test(error.message) ? `nested too deeply (more than ${NESTING_MAX} levels)` : error.message.split('\n')[0];
    throw new ComposeFileError(`${file}:${line}: not valid YAML: ${message}`);
  }
  const lines = new Map<string, number>();
  const lineOf = (n: Node | null | undefined) => (n?.range ? counter.linePos(n.range[0]).line : undefined);
  const fail = (n: Node | null | undefined, path: string, message: string) => {
    const line = lineOf(n);
    const shown = path.length > 100 ? `${path.slice(0, 40)}…${path.slice(-40)}` : path;
    return new ComposeFileError(`${file}${line ? `:${line}` : ''}: ${shown || '(top level)'}: ${message}`);
  };
  // Values made by expanding aliases, and the mappings and lists being walked (an alias inside its own anchor).
  let aliased = 0;
  const walking = new Set<Node>();
  const walk = (node: unknown, path: string, depth: number, inAlias: boolean): Value => {
    if (depth > NESTING_MAX) throw fail(node as Node, path, `nested more than ${NESTING_MAX} levels deep: refusing it`);
    if (inAlias && ++aliased > ALIAS_VALUES_MAX)
      throw fail(node as Node, path, `its aliases expand to more than ${ALIAS_VALUES_MAX} values (an alias bomb?): refusing it`);
    if (isAlias(node)) {
      if (node.range && !inAlias && depth <= LINES_DEPTH) lines.set(path, counter.linePos(node.range[0]).line);
      const target = node.resolve(doc) as Node | undefined;
      if (!target) throw fail(node, path, `the alias *${node.source} names no anchor`);
      if (walking.has(target)) throw fail(node, path, `the alias *${node.source} is inside its own anchor: it would never end`);
      return walk(target, path, depth, true);
    }
    const n = node as Node | null;
    if (n?.range && !inAlias && depth <= LINES_DEPTH) lines.set(path, counter.linePos(n.range[0]).line);
    if (isMap(n) || isSeq(n)) {
      walking.add(n);
      try {
        return walkCollection(n, path, depth, inAlias);
      } finally {
        walking.delete(n);
      }
    }
    return walkScalar(n);
  };
  const walkCollection = (n: Node, path: string, depth: number, inAlias: boolean): Value => {
    if (isMap(n)) {
      const out: { [key: string]: Value } = {};
      // Keys given (merged ones may be given again); the parser's own check is quadratic in them.
      const given = new Map<string, Node | null>();
      for (const pair of n.items) {
        const keyNode = pair.key as Node | null;
        // `<<` plain is a merge key (the parser makes it a symbol); "<<" quoted is a key like any other.
        if (isScalar(keyNode) && typeof keyNode.value === 'symbol') {
          const value = pair.value as Node | null;
          const target = isAlias(value) ? (value.resolve(doc) as Node | undefined) : value;
          const sources = isSeq(target) ? target.items : [value];
          for (const s of sources) {
            const merged = walk(s, path, depth + 1, inAlias);
            if (!merged || typeof merged !== 'object' || Array.isArray(merged))
              throw fail(s as Node, child(path, '<<'), 'a merge key needs a mapping or a list of mappings');
            for (const [k, v] of Object.entries(merged)) if (!Object.hasOwn(out, k)) setKey(out, k, v);
          }
          continue;
        }
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const p = child(path, key);
        if (given.has(key)) {
          const first = lineOf(given.get(key));
          throw fail(keyNode, p, `the key ${JSON.stringify(key)} is given twice in this mapping${first ? ` (first on line ${first})` : ''}`);
        }
        given.set(key, keyNode);
        setKey(out, key, walk(pair.value, p, depth + 1, inAlias));
        if (keyNode?.range && !inAlias && depth < LINES_DEPTH) lines.set(p, counter.linePos(keyNode.range[0]).line);
      }
      return out;
    }
    if (isSeq(n)) return n.items.map((item, i) => walk(item, child(path, i), depth + 1, inAlias));
    return null;
  };
  const walkScalar = (n: Node | null): Value => {
    if (isScalar(n)) {
      const v = n.value;
      if (v === null || v === undefined) return null;
      // Go's YAML reads a plain 0440 as octal (compose-go's file modes are written so).
      if (typeof v === 'number' && n.type === 'PLAIN' && /^[-+]?0[0-7]+$/.test(String(n.source))) return Number.parseInt(String(n.source), 8);
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
      return String(v);
    }
    return null;
  };
  return { file, value: walk(doc.contents, '', 0, false), lines };
};
