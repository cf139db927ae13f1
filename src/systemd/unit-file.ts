// systemd's unit-file syntax (systemd.syntax(7)): [Section] headers, Key=Value lines, # and ; comments,
// a trailing backslash continuing a line (comment lines inside a continued line are skipped), repeated
// sections merged and repeated keys kept in order, each with the line it starts on; the exec-style
// word splitting that list keys (Exec=, PodmanArgs=, Environment=) use; and a writer.
import { InternalError } from '../errors.js';

export interface UnitEntry {
  key: string;
  value: string;
  /** The 1-based line the entry starts on (a continued entry spans the lines after it). */
  line: number;
}

export interface UnitSection {
  name: string;
  /** The line of its first header. */
  line: number;
  entries: UnitEntry[];
}

export interface UnitFile {
  sections: UnitSection[];
}

// A line systemd would refuse, by its line number.
export interface UnitSyntaxError {
  line: number;
  message: string;
}

const isComment = (line: string): boolean => line.startsWith('#') || line.startsWith(';');

// Parses unit-file text. Lines that are neither header, entry nor comment are errors (systemd skips
// them with a warning; a generator should not guess), and so are entries before any header.
export const parseUnitFile = (text: string): { unit: UnitFile; errors: UnitSyntaxError[] } => {
  const unit: UnitFile = { sections: [] };
  const errors: UnitSyntaxError[] = [];
  const lines = text.split('\n');
  let current: UnitSection | undefined;
  let pending: { text: string; line: number } | undefined;
  const take = (raw: string, line: number): void => {
    const trimmed = raw.trim();
    if (trimmed === '' || isComment(trimmed)) return;
    if (trimmed.startsWith('[')) {
      const name = /^\[([^[\]]+)\]$/.exec(trimmed)?.[1];
      if (!name || /[\x00-\x1f\x7f]/.test(name)) {
        errors.push({ line, message: `invalid section header '${trimmed}'` });
        current = undefined;
        return;
      }
      current = unit.sections.find((s) => s.name === name);
      if (!current) unit.sections.push((current = { name, line, entries: [] }));
      return;
    }
    const eq = trimmed.indexOf('=');
    const key = eq > 0 ? trimmed.slice(0, eq).trimEnd() : '';
    if (!key || /\s/.test(key)) {
      errors.push({ line, message: `not a section header, a Key=Value line or a comment: '${trimmed}'` });
      return;
    }
    if (!current) {
      errors.push({ line, message: `${key}= comes before any [Section] header` });
      return;
    }
    current.entries.push({ key, value: trimmed.slice(eq + 1).trimStart(), line });
  };
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    // Inside a continued entry, a comment line is skipped and the entry goes on after it.
    if (pending && isComment(line.trimStart())) return;
    // An odd run of backslashes ends the line (`\\` is an escaped one); systemd replaces the last
    // with a space and keeps the next line as it is.
    const continued = (/\\+$/.exec(line)?.[0].length ?? 0) % 2 === 1 && i < lines.length - 1;
    const piece = continued ? `${line.slice(0, -1)} ` : line;
    if (pending) pending.text += piece;
    else pending = { text: piece, line: i + 1 };
    if (continued) return;
    take(pending.text, pending.line);
    pending = undefined;
  });
  if (pending) take(pending.text, pending.line);
  return { unit, errors };
};

// The section of that name, if the file has one.
export const findSection = (unit: UnitFile, name: string): UnitSection | undefined => unit.sections.find((s) => s.name === name);

// Every entry of `key` in a section, in order, after the last empty assignment (which, as in
// systemd, resets a list to empty).
export const entriesOf = (section: UnitSection | undefined, key: string): UnitEntry[] => {
  const all = section?.entries.filter((e) => e.key === key) ?? [];
  const reset = all.map((e) => e.value === '').lastIndexOf(true);
  return all.slice(reset + 1);
};

// The last entry of `key`: for keys that take one value, the last assignment wins. Undefined when
// absent or reset by an empty assignment.
export const lastOf = (section: UnitSection | undefined, key: string): UnitEntry | undefined => entriesOf(section, key).pop();

// A single value with one pair of surrounding double quotes taken off, as Podman's Quadlet reads
// string keys (`HealthCmd="curl -f localhost"`).
export const unquote = (value: string): string => (value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value);

// systemd's separators for words (WHITESPACE in its sources): ASCII only.
const WHITESPACE = /[ \t\n\r]/;

const C_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'", s: ' ' };

// One C escape after a backslash at `text[i]`: [the character, how many characters it took], or
// undefined for an unknown one (which the splitter keeps as written).
const unescapeAt = (text: string, i: number): [string, number] | undefined => {
  const c = text[i];
  if (c in C_ESCAPES) return [C_ESCAPES[c], 1];
  const hex = { x: 2, u: 4, U: 8 }[c];
  if (hex && new RegExp(`^[0-9a-fA-F]{${hex}}`).test(text.slice(i + 1))) {
    const code = Number.parseInt(text.slice(i + 1, i + 1 + hex), 16);
    if (code > 0 && code <= 0x10ffff) return [String.fromCodePoint(code), hex + 1];
  }
  if (/^[0-7]{3}/.test(text.slice(i))) {
    const code = Number.parseInt(text.slice(i, i + 3), 8);
    if (code > 0 && code < 256) return [String.fromCharCode(code), 3];
  }
  return undefined;
};

// Splits a value into words the way systemd splits ExecStart= (extract_first_word with unquoting
// and C unescaping): whitespace separates words, '…' and "…" quote (also mid-word), \n \t \" \\
// \xHH and friends unescape, a backslash before a space keeps it in the word, and a lone \; is ';'.
// An unknown escape is kept as written (`\d` stays `\d`); an unclosed quote is an error.
export const splitWords = (value: string): { words: string[] } | { error: string } => {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\') {
      const next = value[i + 1];
      const alone = word === undefined && !quote && (i + 2 === value.length || WHITESPACE.test(value[i + 2]));
      word ??= '';
      if (next === undefined) {
        word += '\\';
        break;
      }
      const escaped = unescapeAt(value, i + 1);
      if (WHITESPACE.test(next) || (next === ';' && alone)) {
        word += next;
        i++;
      } else if (escaped) {
        word += escaped[0];
        i += escaped[1];
      } else {
        word += `\\${value[i + 1]}`;
        i++;
      }
    } else if (quote) {
      if (c === quote) quote = undefined;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (WHITESPACE.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) return { error: `unbalanced quotes (a ${quote} is never closed)` };
  if (word !== undefined) words.push(word);
  return { words };
};

// Writes one word so that splitWords (and systemd) read it back unchanged: as it is when it has
// nothing special, else double-quoted with C escapes. A lone ';' (an old command separator) is
// escaped. '%' specifiers and '$' variables are left for systemd to expand, as Quadlet leaves them.
export const escapeWord = (word: string): string => {
  if (word === ';') return '\\;';
  if (word !== '' && !/[ "'\\\x00-\x1f\x7f]/.test(word)) return word;
  const escaped = word.replace(/["\\\x00-\x1f\x7f]/g, (c) => {
    const named = Object.entries(C_ESCAPES).find(([k, v]) => v === c && k !== 's' && k !== "'");
    return named ? `\\${named[0]}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  return `"${escaped}"`;
};

// A command line for Exec*= keys.
export const escapeWords = (words: string[]): string => words.map(escapeWord).join(' ');

// Writes a unit: comment lines first, then each section with a blank line between. A value must be
// one line (a newline would start a new entry; escapeWords never makes one).
export const formatUnitFile = (unit: UnitFile, comments: string[] = []): string => {
  const out = comments.map((c) => `# ${c}`.trimEnd());
  for (const section of unit.sections) {
    if (out.length) out.push('');
    out.push(`[${section.name}]`);
    for (const entry of section.entries) {
      if (/[\n\r]/.test(entry.value)) throw new InternalError(`the ${entry.key}= value of a generated unit has a line break`);
      out.push(`${entry.key}=${entry.value}`);
    }
  }
  return `${out.join('\n')}\n`;
};
