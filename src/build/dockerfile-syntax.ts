// The word-level pieces of Dockerfile syntax, as BuildKit's parser splits a line: the keyword, the leading
// --flags, JSON arrays, raw words for ENV/LABEL/ARG, and heredoc markers.
import { CliError } from '../errors.js';
import { isSpace, lexWords } from './expand.js';

// How a flag takes its value: --link[=bool], --from=one, --mount=repeatable.
export type FlagKind = 'bool' | 'string' | 'strings';

// The flags each instruction accepts (any other flag is an error), with Docker's value kinds.
export const INSTRUCTION_FLAGS: Readonly<Record<string, Readonly<Record<string, FlagKind>>>> = {
  FROM: { platform: 'string' },
  RUN: { mount: 'strings', network: 'string', security: 'string' },
  COPY: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  ADD: { chown: 'string', chmod: 'string', link: 'bool', checksum: 'string', 'keep-git-dir': 'bool', unpack: 'bool', exclude: 'strings' },
  HEALTHCHECK: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
};

// The separators of Go's reWhitespace, which splits FROM, EXPOSE, COPY and ADD arguments.
const FIELD_SEP_RE = /[\t\v\f\r ]+/;

// Removes Go's unicode white space from both ends (or only from the start).
export const trimSpace = (text: string, end: 'both' | 'start' = 'both'): string => {
  const chars = Array.from(text);
  let first = 0;
  let last = chars.length;
  while (first < last && isSpace(chars[first])) first++;
  while (end === 'both' && last > first && isSpace(chars[last - 1])) last--;
  return chars.slice(first, last).join('');
};

// Splits arguments on blanks, quotes or not: the (already trimmed) arguments of FROM, EXPOSE, COPY, ADD, VOLUME.
export const splitFields = (text: string): string[] => (text === '' ? [] : text.split(FIELD_SEP_RE));

// Reads the leading --flags of an instruction's arguments (quotes and escapes removed; `--` ends them).
const extractFlags = (line: string, escapeToken: string): { rest: string; flags: string[] } => {
  const flags: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < line.length && isSpace(line[pos])) pos++;
    if (!line.startsWith('--', pos)) return { rest: line.slice(pos), flags };
    let word = '';
    let quote = '';
    let quoted = false;
    for (; pos < line.length; pos++) {
      let ch = line[pos];
      if (quote === '' && isSpace(ch)) break;
      if (quote === '' && (ch === '"' || ch === "'")) {
        quote = ch;
        quoted = true;
        continue;
      }
      if (quote !== '' && ch === quote) {
        quote = '';
        continue;
      }
      if (ch === escapeToken) {
        if (pos + 1 === line.length) continue;
        ch = line[++pos];
      }
      word += ch;
    }
    if (word === '--') return { rest: pos < line.length ? line.slice(pos) : '', flags };
    if (quoted || word !== '') flags.push(word);
    if (pos >= line.length) return { rest: '', flags };
  }
};

// Splits an instruction line into its keyword, its --flags and the rest (trimmed), as Docker's splitCommand does.
export const splitCommand = (line: string, escapeToken: string): { keyword: string; flags: string[]; rest: string } => {
  const trimmed = trimSpace(line);
  const match = FIELD_SEP_RE.exec(trimmed);
  if (!match) return { keyword: trimmed, flags: [], rest: '' };
  const { rest, flags } = extractFlags(trimmed.slice(match.index + match[0].length), escapeToken);
  return { keyword: trimmed.slice(0, match.index), flags, rest: trimSpace(rest) };
};

// Parses the exec form: a JSON array of strings, else undefined (shell form). A JSON array holding anything
// but strings is an error, as in Docker, not shell form.
export const parseJsonArray = (text: string): string[] | undefined => {
  const candidate = trimSpace(text);
  if (!candidate.startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(candidate);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  if (!parsed.every((item) => typeof item === 'string')) throw new CliError('EUSAGE', 'when using JSON array syntax, arrays must be comprised of strings only');
  return parsed;
};

// Splits ENV/LABEL/ARG arguments into words on unquoted blanks, keeping the quotes and escapes for expansion.
export const parseWords = (text: string, escapeToken: string): string[] => {
  const words: string[] = [];
  const chars = Array.from(text);
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOk = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (!inWord) {
      if (isSpace(ch)) continue;
      inWord = true;
    }
    if (quote === '') {
      if (isSpace(ch)) {
        if (blankOk || word !== '') words.push(word);
        word = '';
        inWord = false;
        blankOk = false;
        continue;
      }
      if (ch === '"' || ch === "'") {
        quote = ch;
        blankOk = true;
      }
      if (ch === escapeToken) {
        if (i + 1 === chars.length) continue;
        word += ch + chars[++i];
        continue;
      }
      word += ch;
      continue;
    }
    if (ch === quote) quote = '';
    else if (ch === escapeToken && quote !== "'") {
      if (i + 1 === chars.length) {
        quote = '';
        continue;
      }
      word += ch + chars[++i];
      continue;
    }
    word += ch;
  }
  if (inWord && (blankOk || word !== '')) words.push(word);
  return words;
};

// A heredoc named on an instruction line (`<<EOF`), before its body is read.
export interface HeredocMarker {
  name: string;
  expand: boolean;
  chomp: boolean;
}

const HEREDOC_RE = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const noVariables = (): undefined => undefined;

// Reads a heredoc marker word (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`); undefined when the word is none
// (or unreadable). Any quoting in the name turns expansion of the body off.
export const parseHeredocWord = (word: string): HeredocMarker | undefined => {
  const match = HEREDOC_RE.exec(word);
  if (!match || match[3] === '') return undefined;
  let plain: string[];
  let raw: string[];
  try {
    plain = lexWords(match[3], noVariables, { skipUnset: true }).words;
    raw = lexWords(match[3], noVariables, { skipUnset: true, rawQuotes: true }).words;
  } catch {
    return undefined;
  }
  if (plain.length !== 1 || raw.length !== 1) return undefined;
  const quotes = (text: string): number => (text.match(/['"]/g) ?? []).length;
  return { name: plain[0], expand: quotes(plain[0]) === quotes(raw[0]), chomp: match[2] === '-' };
};

// The heredoc markers of a RUN, COPY or ADD line, in order; a line the lexer cannot read has none.
export const findHeredocs = (line: string): HeredocMarker[] => {
  let words: string[];
  try {
    words = lexWords(line, noVariables, { rawQuotes: true, rawEscapes: true, skipUnset: true }).words;
  } catch {
    return [];
  }
  return words.map(parseHeredocWord).filter((marker): marker is HeredocMarker => marker !== undefined);
};

// `<<-` bodies lose the leading tabs of every line.
export const chompHeredoc = (content: string): string => content.replace(/^\t+/gm, '');
