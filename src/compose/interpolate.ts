// Compose's variable interpolation (compose-go template): $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d},
// ${VAR:?err}, ${VAR?err}, ${VAR:+r}, ${VAR+r}; defaults may hold further substitutions.
import { formatLimit, INTERPOLATED_MAX } from '../util/limits.js';

export class InterpolationError extends Error {}

/** What interpolation may still make (bytes of substituted values), shared by the strings of one file. */
export interface Budget {
  left: number;
}

// How deep defaults may nest (`${A:-${B:-…}}`): each level is a recursion.
export const NESTING_MAX = 32;

const spend = (budget: Budget, value: string): string => {
  budget.left -= value.length;
  if (budget.left < 0)
    throw new InterpolationError(`interpolation makes more than ${formatLimit(INTERPOLATED_MAX)} of text (a large variable used many times?): refusing it`);
  return value;
};

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

// Substitutes `text` from `env`; `missing` hears each variable used without a value and without a
// default; `budget` bounds what the substituted values add up to (one budget for a whole file).
export const interpolate = (
  text: string,
  env: Record<string, string | undefined>,
  missing: (name: string) => void = () => {},
  budget: Budget = { left: INTERPOLATED_MAX },
): string => expand(text, env, missing, budget, 0);

const expand = (text: string, env: Record<string, string | undefined>, missing: (name: string) => void, budget: Budget, depth: number): string => {
  if (depth > NESTING_MAX) throw new InterpolationError(`invalid interpolation format: defaults nest more than ${NESTING_MAX} levels deep`);
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(text, i + 2);
      if (end < 0) throw new InterpolationError(`invalid interpolation format "${text}": a \${ has no closing }; write $$ for a literal $`);
      out += braced(text.slice(i + 2, end), text, env, missing, budget, depth);
      i = end + 1;
      continue;
    }
    const name = NAME.exec(text.slice(i + 1))?.[0];
    if (!name) throw new InterpolationError(`invalid interpolation format "${text}": write $$ for a literal $`);
    const value = env[name];
    if (value === undefined) missing(name);
    out += spend(budget, value ?? '');
    i += 1 + name.length;
  }
  return out;
};

// The index of the } that closes a ${ opened just before `from` (nested ${…} count).
const closingBrace = (text: string, from: number): number => {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '$') i++;
    else if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
};

const braced = (
  inner: string,
  whole: string,
  env: Record<string, string | undefined>,
  missing: (name: string) => void,
  budget: Budget,
  depth: number,
): string => {
  const name = NAME.exec(inner)?.[0];
  if (!name) throw new InterpolationError(`invalid interpolation format "${whole}": \${${inner}} does not start with a variable name`);
  const rest = inner.slice(name.length);
  const value = env[name];
  if (rest === '') {
    if (value === undefined) missing(name);
    return spend(budget, value ?? '');
  }
  const op = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest)?.[0];
  if (!op) throw new InterpolationError(`invalid interpolation format "${whole}": unknown operator in \${${inner}}`);
  const arg = () => expand(rest.slice(op.length), env, missing, budget, depth + 1);
  const empty = value === undefined || (op.startsWith(':') && value === '');
  switch (op) {
    case ':-':
    case '-':
      return empty ? arg() : spend(budget, value as string);
    case ':?':
    case '?':
      if (empty) throw new InterpolationError(`required variable ${name} is missing a value: ${arg()}`);
      return spend(budget, value as string);
    default:
      return empty ? '' : arg();
  }
};

// Reads a .env file as Compose does: KEY=VALUE lines, `export ` prefixes, # comments, single quotes
// literal, double quotes with \n escapes, later lines seeing earlier ones (and the environment).
export const parseEnvFile = (text: string, file: string, lookup: Record<string, string | undefined> = {}): Record<string, string> => {
  const vars: Record<string, string> = {};
  const budget: Budget = { left: INTERPOLATED_MAX };
  // What a value sees: the lookup under the lines before it (kept as one object: no copy per line).
  const scope: Record<string, string | undefined> = { ...lookup };
  const lines = text.split(/\r?\n/);
  let n = 0;
  try {
    for (; n < lines.length; n++) {
      let line = lines[n].trim();
      if (line === '' || line.startsWith('#')) continue;
      if (line.startsWith('export ')) line = line.slice(7).trim();
      const eq = line.indexOf('=');
      const key = (eq < 0 ? line : line.slice(0, eq)).trim();
      if (!/^[_a-zA-Z][-._a-zA-Z0-9]*$/.test(key)) throw new InterpolationError(`${file}:${n + 1}: "${key}" is not a variable name`);
      if (eq < 0) {
        const v = lookup[key];
        if (v !== undefined) vars[key] = scope[key] = v;
        continue;
      }
      let raw = line.slice(eq + 1).trim();
      const q = raw[0];
      if (q === "'" || q === '"') {
        // A value continues over lines to its closing quote (looked for in each new line only).
        let close = raw.indexOf(q, 1);
        const parts = [raw];
        let length = raw.length;
        while (close < 0 && n + 1 < lines.length) {
          const next = lines[++n];
          const at = next.indexOf(q);
          if (at >= 0) close = length + 1 + at;
          parts.push(next);
          length += 1 + next.length;
        }
        raw = parts.join('\n');
        if (close < 0) throw new InterpolationError(`${file}:${n + 1}: the value of ${key} has no closing ${q}`);
        const body = raw.slice(1, close);
        vars[key] =
          q === "'"
            ? body
            : interpolate(
                body.replace(/\\([nrt"\\])/g, (_, e: string) => ({ n: '\n', r: '\r', t: '\t' })[e] ?? e),
                scope,
                undefined,
                budget,
              );
      } else {
        const hash = raw.search(/\s#/);
        if (hash >= 0) raw = raw.slice(0, hash).trimEnd();
        vars[key] = interpolate(raw, scope, undefined, budget);
      }
      scope[key] = vars[key];
    }
  } catch (e) {
    // What interpolation refuses (a value too large, a bad ${…}) said with the file and line.
    if (e instanceof InterpolationError && !e.message.startsWith(`${file}:`)) throw new InterpolationError(`${file}:${n + 1}: ${e.message}`);
    throw e;
  }
  return vars;
};
