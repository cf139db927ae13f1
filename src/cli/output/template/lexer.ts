// Lexing: the template split into text and the tokens of each action, as Go's lexer reads them, and the parse errors it raises.
import { CliError } from '../../../errors.js';
import { hex, quote } from './fmt.js';
import type { Span, Src, Value } from './values.js';

type TokKind = 'field' | 'var' | 'dot' | 'ident' | 'keyword' | 'string' | 'number' | 'bool' | 'nil' | '(' | ')' | '|' | ':=' | '=' | ',';
export interface Tok extends Span {
  t: TokKind;
  v: string;
  value?: Value;
  sp: boolean; // whitespace before it: `.A .B` is two operands, `.A.B` one
}
export type Piece = { kind: 'text'; text: string } | { kind: 'action'; toks: Tok[]; pos: number };

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);
const NUMBER = /[+-]?(?:0[xX][\da-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*)?(?:\.[\d_]*)?(?:[eE][+-]?\d[\d_]*)?)/y;
const WORD = /[\p{L}\p{N}_]*/uy;
// The space characters Go's lexer skips and trim markers remove.
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

// Line (from 1) and byte column (from 0) of a position, as Go's messages give them.
export const lineCol = (text: string, pos: number): [number, number] => {
  const before = text.slice(0, pos);
  return [before.split('\n').length, pos - before.lastIndexOf('\n') - 1];
};

// A parse error: one line naming the template, the line and what is wrong.
export const parseError = (src: Src, pos: number, msg: string): never => {
  throw new CliError('EUSAGE', `template: ${src.name}:${lineCol(src.text, pos)[0]}: ${msg}`);
};

// A character as Go's %#U shows it in lexing errors.
const runeName = (c: string): string => `U+${hex(c.codePointAt(0) ?? 0, 4)} ${quote(c, "'")}`;

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };

// Go's string and character escapes (\n, \x41, \u00e9, \101 ...); undefined for a malformed one.
const unquote = (body: string): string | undefined => {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i] ?? '';
    if (ESCAPES[e] !== undefined) {
      out += ESCAPES[e];
      continue;
    }
    const octal = e >= '0' && e <= '7';
    const size = octal ? 3 : e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    const from = octal ? i : i + 1;
    const code = body.slice(from, from + size);
    if (!size || code.length !== size || !(octal ? /^[0-7]+$/ : /^[\da-fA-F]+$/).test(code)) return undefined;
    const n = Number.parseInt(code, octal ? 8 : 16);
    if (n > 0x10ffff) return undefined;
    out += String.fromCodePoint(n);
    i = from + size - 1;
  }
  return out;
};

// A number literal's value: Go's decimal, float, hex, octal and binary forms with underscores.
const parseNumber = (raw: string): number | undefined => {
  const s = raw.replace(/_/g, '');
  const body = s.replace(/^[+-]/, '');
  let n: number;
  if (/^0[xX][\da-fA-F]+$/.test(body)) n = Number.parseInt(body.slice(2), 16);
  else if (/^0[oO][0-7]+$/.test(body)) n = Number.parseInt(body.slice(2), 8);
  else if (/^0[bB][01]+$/.test(body)) n = Number.parseInt(body.slice(2), 2);
  else if (/^0[0-7]+$/.test(body)) n = Number.parseInt(body.slice(1), 8);
  else if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(body)) n = Number(body);
  else return undefined;
  return s[0] === '-' ? -n : n;
};

// Where a closing delimiter starts at p: the position after it and whether it trims the following space.
const closeAt = (text: string, p: number): [number, boolean] | undefined => {
  if (text.startsWith('}}', p)) return [p + 2, false];
  if (isSpace(text[p]) && text[p + 1] === '-' && text.startsWith('}}', p + 2)) return [p + 4, true];
  return undefined;
};

// Reads the tokens of one action from p to its closing delimiter; returns where the text resumes and whether to trim it.
const lexAction = (src: Src, p: number, open: number, toks: Tok[]): [number, boolean] => {
  const text = src.text;
  const word = (from: number) => {
    WORD.lastIndex = from;
    WORD.exec(text);
    return WORD.lastIndex;
  };
  const terminated = (at: number) => at >= text.length || isSpace(text[at]) || '.,|:()'.includes(text[at]) || text.startsWith('}}', at);
  let sp = false;
  for (;;) {
    if (p >= text.length) parseError(src, open, 'unclosed action');
    const close = closeAt(text, p);
    if (close) return close;
    const c = text[p];
    if (isSpace(c)) {
      [p, sp] = [p + 1, true];
      continue;
    }
    const start = p;
    let t: TokKind;
    let value: Value;
    if (c === '"' || c === "'") {
      let j = p + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) parseError(src, start, c === '"' ? 'unterminated quoted string' : 'unterminated character constant');
      const s = unquote(text.slice(p + 1, j)) ?? parseError(src, start, `malformed literal: ${text.slice(start, j + 1)}`);
      p = j + 1;
      if (c === "'" && [...s].length !== 1) parseError(src, start, `malformed character constant: ${text.slice(start, p)}`);
      t = c === '"' ? 'string' : 'number';
      value = c === '"' ? s : s.codePointAt(0);
    } else if (c === '`') {
      const j = text.indexOf('`', p + 1);
      if (j < 0) parseError(src, start, 'unterminated raw quoted string');
      t = 'string';
      value = text.slice(p + 1, j);
      p = j + 1;
    } else if (c === '$' || (c === '.' && !(text[p + 1] >= '0' && text[p + 1] <= '9'))) {
      p = word(p + 1);
      t = c === '$' ? 'var' : p === start + 1 ? 'dot' : 'field';
      if (!terminated(p)) parseError(src, p, `bad character ${runeName(text[p])}`);
    } else if ((c >= '0' && c <= '9') || c === '+' || c === '-' || c === '.') {
      NUMBER.lastIndex = p;
      NUMBER.exec(text);
      p = Math.max(NUMBER.lastIndex, p + 1);
      const raw = text.slice(start, word(p));
      value = word(p) === p ? parseNumber(raw) : undefined;
      if (value === undefined) parseError(src, start, `bad number syntax: ${JSON.stringify(raw)}`);
      t = 'number';
    } else if (/[\p{L}_]/u.test(c)) {
      p = word(p);
      const w = text.slice(start, p);
      t = KEYWORDS.has(w) ? 'keyword' : w === 'true' || w === 'false' ? 'bool' : w === 'nil' ? 'nil' : 'ident';
      value = w === 'true';
      if (!terminated(p)) parseError(src, p, `bad character ${runeName(text[p])}`);
    } else if (c === ':') {
      if (text[p + 1] !== '=') parseError(src, p, 'expected :=');
      t = ':=';
      p += 2;
    } else if ('=|(),'.includes(c)) {
      t = c as TokKind;
      p++;
    } else {
      return parseError(src, p, `unrecognized character in action: ${runeName(String.fromCodePoint(text.codePointAt(p)!))}`);
    }
    toks.push({ t, v: text.slice(start, p), value, pos: start, end: p, sp });
    sp = false;
  }
};

// Splits the template into text and the tokens of each action, applying {{- -}} trim markers and dropping comments.
export const lex = (src: Src): Piece[] => {
  const text = src.text;
  const pieces: Piece[] = [];
  let [i, trimNext] = [0, false];
  for (;;) {
    const open = text.indexOf('{{', i);
    let chunk = text.slice(i, open < 0 ? text.length : open);
    if (trimNext) chunk = chunk.replace(/^[ \t\r\n]+/, '');
    let p = open + 2;
    if (open >= 0 && text[p] === '-' && isSpace(text[p + 1])) [chunk, p] = [chunk.replace(/[ \t\r\n]+$/, ''), p + 2];
    if (chunk) pieces.push({ kind: 'text', text: chunk });
    if (open < 0) return pieces;
    if (text.startsWith('/*', p)) {
      const close = text.indexOf('*/', p + 2);
      if (close < 0) parseError(src, open, 'unclosed comment');
      [i, trimNext] = closeAt(text, close + 2) ?? parseError(src, open, 'comment ends before closing delimiter');
      continue;
    }
    const toks: Tok[] = [];
    [i, trimNext] = lexAction(src, p, open, toks);
    pieces.push({ kind: 'action', toks, pos: open });
  }
};
