// Compose's variable interpolation (compose-go template): $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d},
// ${VAR:?err}, ${VAR?err}, ${VAR:+r}, ${VAR+r}; defaults may hold further substitutions.
export class InterpolationError extends Error {}

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

// Substitutes `text` from `env`; `missing` hears each variable used without a value and without a default.
export const interpolate = (text: string, env: Record<string, string | undefined>, missing: (name: string) => void = () => {}): string => {
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
      out += braced(text.slice(i + 2, end), text, env, missing);
      i = end + 1;
      continue;
    }
    const name = NAME.exec(text.slice(i + 1))?.[0];
    if (!name) throw new InterpolationError(`invalid interpolation format "${text}": write $$ for a literal $`);
    const value = env[name];
    if (value === undefined) missing(name);
    out += value ?? '';
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

const braced = (inner: string, whole: string, env: Record<string, string | undefined>, missing: (name: string) => void): string => {
  const name = NAME.exec(inner)?.[0];
  if (!name) throw new InterpolationError(`invalid interpolation format "${whole}": \${${inner}} does not start with a variable name`);
  const rest = inner.slice(name.length);
  const value = env[name];
  if (rest === '') {
    if (value === undefined) missing(name);
    return value ?? '';
  }
  const op = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest)?.[0];
  if (!op) throw new InterpolationError(`invalid interpolation format "${whole}": unknown operator in \${${inner}}`);
  const arg = () => interpolate(rest.slice(op.length), env, missing);
  const empty = value === undefined || (op.startsWith(':') && value === '');
  switch (op) {
    case ':-':
    case '-':
      return empty ? arg() : (value as string);
    case ':?':
    case '?':
      if (empty) throw new InterpolationError(`required variable ${name} is missing a value: ${arg()}`);
      return value as string;
    default:
      return empty ? '' : arg();
  }
};

// Reads a .env file as Compose does: KEY=VALUE lines, `export ` prefixes, # comments, single quotes
// literal, double quotes with \n escapes, later lines seeing earlier ones (and the environment).
export const parseEnvFile = (text: string, file: string, lookup: Record<string, string | undefined> = {}): Record<string, string> => {
  const vars: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n].trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trim();
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (!/^[_a-zA-Z][-._a-zA-Z0-9]*$/.test(key)) throw new InterpolationError(`${file}:${n + 1}: "${key}" is not a variable name`);
    if (eq < 0) {
      const v = lookup[key];
      if (v !== undefined) vars[key] = v;
      continue;
    }
    let raw = line.slice(eq + 1).trim();
    const q = raw[0];
    if (q === "'" || q === '"') {
      while (!raw.slice(1).includes(q) && n + 1 < lines.length) raw += `\n${lines[++n]}`;
      const close = raw.indexOf(q, 1);
      if (close < 0) throw new InterpolationError(`${file}:${n + 1}: the value of ${key} has no closing ${q}`);
      const body = raw.slice(1, close);
      vars[key] =
        q === "'"
          ? body
          : interpolate(
              body.replace(/\\([nrt"\\])/g, (_, e: string) => ({ n: '\n', r: '\r', t: '\t' })[e] ?? e),
              { ...lookup, ...vars },
            );
    } else {
      const hash = raw.search(/\s#/);
      if (hash >= 0) raw = raw.slice(0, hash).trimEnd();
      vars[key] = interpolate(raw, { ...lookup, ...vars });
    }
  }
  return vars;
};
