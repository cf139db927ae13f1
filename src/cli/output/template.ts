// Go-template-style --format strings, the subset scripts use: {{.Field}}, {{.A.B}}, {{json .X}},
// {{upper .X}}, {{lower .X}}, {{truncate .X N}}, and a leading "table " for a header row.
import { CliError } from '../../errors.js';

type Value = unknown;

const lookup = (data: Value, path: string, template: string): Value => {
  if (path === '.') return data;
  let current: Value = data;
  for (const key of path.slice(1).split('.')) {
    if (current === null || current === undefined) return undefined;
    if (typeof current !== 'object' || !(key in (current as object))) {
      throw new CliError('EUSAGE', `template "${template}": can't evaluate field ${key}`);
    }
    current = (current as Record<string, Value>)[key];
  }
  return current;
};

const show = (value: Value): string => {
  if (value === undefined || value === null) return '<no value>';
  if (Array.isArray(value)) return `[${value.map(show).join(' ')}]`;
  if (typeof value === 'object')
    return `map[${Object.entries(value as object)
      .map(([k, v]) => `${k}:${show(v)}`)
      .join(' ')}]`;
  return String(value);
};

const evaluate = (expr: string, data: Value, template: string): string => {
  const words = expr.trim().split(/\s+/);
  const arg = (i: number) => {
    const w = words[i];
    if (!w?.startsWith('.')) throw new CliError('EUSAGE', `template "${template}": "${expr.trim()}" needs a field such as .ID`);
    return lookup(data, w, template);
  };
  switch (words[0]) {
    case 'json':
      return JSON.stringify(arg(1) ?? null);
    case 'upper':
      return show(arg(1)).toUpperCase();
    case 'lower':
      return show(arg(1)).toLowerCase();
    case 'truncate':
      return show(arg(1)).slice(0, Number(words[2]));
    default:
      if (words.length === 1 && words[0].startsWith('.')) return show(lookup(data, words[0], template));
      throw new CliError('EUSAGE', `template "${template}": unsupported expression "${expr.trim()}"`);
  }
};

const unescapeText = (s: string): string => s.replace(/\\t/g, '\t').replace(/\\n/g, '\n');

// Renders the template for one value.
export const renderTemplate = (template: string, data: Value): string => {
  const rendered = unescapeText(template.replace(/^table\s+/, '')).replace(/\{\{(.*?)\}\}/g, (_, expr: string) => evaluate(expr, data, template));
  if (rendered.includes('{{')) throw new CliError('EUSAGE', `template "${template}": unclosed action`);
  return rendered;
};

// The header row of a "table ..." template: each {{.Field}} becomes FIELD.
export const templateHeader = (template: string): string | undefined => {
  if (!template.startsWith('table ')) return undefined;
  return unescapeText(template.slice(6)).replace(/\{\{\s*(?:\w+\s+)?\.(\w+)[^}]*\}\}/g, (_, f: string) => f.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase());
};
