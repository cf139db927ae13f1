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

// Parses `text` (YAML 1.2 core; merge keys `<<` and anchors as Compose allows them).
export const readSource = (text: string, file: string): SourceFile => {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, merge: true, uniqueKeys: true, prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    const line = error.linePos?.[0].line ?? counter.linePos(error.pos[0]).line;
    throw new ComposeFileError(`${file}:${line}: not valid YAML: ${error.message.split('\n')[0]}`);
  }
  const lines = new Map<string, number>();
  const walk = (node: unknown, path: string): Value => {
    if (isAlias(node)) return walk(node.resolve(doc), path);
    const n = node as Node | null;
    if (n?.range) lines.set(path, counter.linePos(n.range[0]).line);
    if (isMap(n)) {
      const out: { [key: string]: Value } = {};
      for (const pair of n.items) {
        const keyNode = pair.key as Node | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        if (key === '<<') {
          const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
          for (const s of sources) {
            const merged = walk(s, path);
            if (merged && typeof merged === 'object' && !Array.isArray(merged)) for (const [k, v] of Object.entries(merged)) if (!(k in out)) out[k] = v;
          }
          continue;
        }
        const p = child(path, key);
        if (keyNode?.range) lines.set(p, counter.linePos(keyNode.range[0]).line);
        out[key] = walk(pair.value, p);
        if (keyNode?.range) lines.set(p, counter.linePos(keyNode.range[0]).line);
      }
      return out;
    }
    if (isSeq(n)) return n.items.map((item, i) => walk(item, child(path, i)));
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
  return { file, value: walk(doc.contents, ''), lines };
};
