// Go's text/template language as Podman evaluates --format: the template is lexed and parsed once (cached by its
// text), then evaluated over skiff's JSON-like data with Go's builtins, Podman's functions and fmt's %v printing.
// This entry holds the parse cache and the two exported functions; template/ holds the lexer, parser, evaluator,
// fmt and functions.
import { Exec } from './template/evaluate.js';
import { lex } from './template/lexer.js';
import { type Arg, type Parsed, Parser, type Pipe } from './template/parser.js';
import type { Value } from './template/values.js';

const cache = new Map<string, Parsed>();

// Podman's escapes for tab and newline typed as \t and \n on the command line.
const unescapeText = (s: string): string => s.replace(/\\t/g, '\t').replace(/\\n/g, '\n');

// Parses a template once; later renders of the same text (ps renders one per row) reuse the tree.
const parseTemplate = (template: string): Parsed => {
  const cached = cache.get(template);
  if (cached) return cached;
  const src = { name: JSON.stringify(template), text: unescapeText(template.replace(/^table\s+/, '')) };
  const parser = new Parser(src, lex(src));
  const parsed = { src, root: parser.list().nodes, defines: parser.defines };
  if (cache.size >= 256) cache.clear();
  cache.set(template, parsed);
  return parsed;
};

// Renders the template for one value.
export const renderTemplate = (template: string, data: Value): string => {
  const run = new Exec(parseTemplate(template), data);
  run.walk(data, run.t.root);
  return run.out;
};

// The first field an expression reads, which names its column.
const firstField = (pipe: Pipe): string | undefined => {
  const of = (a: Arg): string | undefined =>
    a.kind === 'field' || a.kind === 'var' ? a.names[0] : a.kind === 'chain' ? (of(a.base) ?? a.names[0]) : a.kind === 'pipe' ? firstField(a.pipe) : undefined;
  for (const cmd of pipe.cmds) for (const a of cmd.args) if (of(a)) return of(a);
  return undefined;
};

// A column title from a field name: CreatedSince → CREATED SINCE, IPAddress → IP ADDRESS.
const columnName = (field: string | undefined): string =>
  (field ?? '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1 $2')
    .toUpperCase();

// The header row of a "table ..." template: its text, with each action (or block) replaced by its first field's name.
export const templateHeader = (template: string): string | undefined => {
  if (!template.startsWith('table ')) return undefined;
  return parseTemplate(template)
    .root.map((n) => {
      if (n.kind === 'text') return n.text;
      if (n.kind === 'action') return n.pipe.decl.length ? '' : columnName(firstField(n.pipe));
      return n.kind === 'if' || n.kind === 'with' || n.kind === 'range' ? columnName(firstField(n.pipe)) : '';
    })
    .join('');
};
