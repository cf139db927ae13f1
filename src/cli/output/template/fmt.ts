// Go's fmt as templates use it: %v printing of values, Sprintf's flags and verbs, and Sprint.
import { isObject, keysOf, typeName, type Value } from './values.js';

interface Flags {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}
const NO_FLAGS: Flags = { minus: false, plus: false, sharp: false, space: false, zero: false };
// unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
export const isPrint = (ch: string): boolean => /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch);
const QUOTED: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\' };
// Upper-case hex digits, zero-padded to width.
export const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');

// Pads to the width in characters, as fmt does (zero padding only where the verb allows it).
const padTo = (s: string, f: Flags, zeroOK = true): string => {
  if (f.width === undefined) return s;
  const missing = f.width - [...s].length;
  if (missing <= 0) return s;
  if (f.minus) return s + ' '.repeat(missing);
  return (f.zero && zeroOK ? '0' : ' ').repeat(missing) + s;
};

// strconv.Quote / QuoteRune: Go-escaped, printable characters kept.
export const quote = (s: string, q = '"'): string => {
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === q) out += `\\${q}`;
    else if (QUOTED[ch]) out += QUOTED[ch];
    else if (isPrint(ch)) out += ch;
    else if (c < 0x80) out += `\\x${hex(c, 2).toLowerCase()}`;
    else out += c < 0x10000 ? `\\u${hex(c, 4).toLowerCase()}` : `\\U${hex(c, 8).toLowerCase()}`;
  }
  return out + q;
};

// strconv's %g, shortest (prec < 0) or to prec digits: exponent form below 1e-4, or from 1e6 (shortest) or 1e(prec) up.
const formatG = (x: number, prec: number): string => {
  if (x === 0) return '0';
  const shortest = prec < 0;
  const p = Math.max(prec, 1);
  const [mant, e] = (shortest ? x.toExponential() : x.toExponential(p - 1)).split('e');
  const digits = mant.replace('.', '').replace(/0+$/, '') || '0';
  const exp = Number(e);
  if (exp < -4 || exp >= (shortest ? 6 : p)) {
    return `${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `0.${'0'.repeat(-exp - 1)}${digits}`;
  return digits.length <= exp + 1 ? digits.padEnd(exp + 1, '0') : `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
};

// %d %x %o %b of an integer: sign, then prefix, then digits zero-padded to the precision or width.
const fmtInteger = (n: number, base: number, verb: string, f: Flags): string => {
  const neg = n < 0;
  let digits = Math.abs(n).toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  if (f.prec !== undefined) digits = f.prec === 0 && n === 0 ? '' : digits.padStart(f.prec, '0');
  else if (f.zero && !f.minus && f.width !== undefined) digits = digits.padStart(f.width - (neg || f.plus || f.space ? 1 : 0), '0');
  let prefix = verb === 'O' ? '0o' : '';
  if (f.sharp && base === 16) prefix = verb === 'X' ? '0X' : '0x';
  if (f.sharp && base === 8 && digits[0] !== '0') prefix = '0';
  if (f.sharp && base === 2) prefix = '0b';
  return padTo(`${neg ? '-' : f.plus ? '+' : f.space ? ' ' : ''}${prefix}${digits}`, f, false);
};

// %e %f %g (and %v of a non-integer) as Go prints a float64.
const fmtFloat = (x: number, verb: string, f: Flags): string => {
  const sign = x < 0 || Object.is(x, -0) ? '-' : f.plus ? '+' : f.space ? ' ' : '';
  if (Number.isNaN(x)) return padTo(f.plus ? '+NaN' : 'NaN', f, false);
  if (!Number.isFinite(x)) return padTo(x < 0 ? '-Inf' : '+Inf', f, false);
  const a = Math.abs(x);
  const v = verb.toLowerCase();
  let body = v === 'f' ? a.toFixed(f.prec ?? 6) : v === 'e' ? a.toExponential(f.prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2') : formatG(a, f.prec ?? -1);
  if (verb === 'E' || verb === 'G') body = body.toUpperCase();
  if (f.zero && !f.minus && f.width !== undefined) body = body.padStart(f.width - sign.length, '0');
  return padTo(sign + body, f, false);
};

const INT_BASES: Record<string, number> = { v: 10, d: 10, b: 2, o: 8, O: 8, x: 16, X: 16 };

// One number under one verb, or undefined when Go would print %!verb(type=value).
const fmtNumber = (n: number, verb: string, f: Flags): string | undefined => {
  if (Number.isSafeInteger(n)) {
    const base = INT_BASES[verb];
    if (base) return fmtInteger(n, base, verb, f);
    if (verb === 'c') return padTo(String.fromCodePoint(n), f);
    if (verb === 'q') return padTo(quote(String.fromCodePoint(n), "'"), f);
    if (verb === 'U') return padTo(`U+${hex(n, 4)}`, f);
  }
  return 'eEfFgGv'.includes(verb) ? fmtFloat(n, verb, f) : undefined;
};

// One string under one verb, or undefined when Go would print %!verb(string=...).
const fmtString = (s: string, verb: string, f: Flags): string | undefined => {
  if (f.prec !== undefined && 'vsq'.includes(verb)) s = [...s].slice(0, f.prec).join('');
  if (verb === 'v' || verb === 's') return padTo(s, f);
  if (verb === 'q') return padTo(quote(s), f);
  if (verb !== 'x' && verb !== 'X') return undefined;
  let bytes = [...Buffer.from(s)];
  if (f.prec !== undefined) bytes = bytes.slice(0, f.prec);
  const digits = bytes.map((b) => hex(b, 2).toLowerCase());
  const prefix = f.sharp ? '0x' : '';
  const out = f.space ? digits.map((d) => prefix + d).join(' ') : prefix + digits.join('');
  return padTo(verb === 'X' ? out.toUpperCase() : out, f);
};

// fmt's printing of one argument; nested values (inside arrays and maps) print nil as <nil> whatever the verb.
const fmtArg = (v: Value, verb: string, f: Flags, nested: boolean): string => {
  if (v === undefined || v === null) return nested ? '<nil>' : verb === 'v' || verb === 'T' ? padTo('<nil>', f, false) : `%!${verb}(<nil>)`;
  if (verb === 'T') return padTo(typeName(v), f);
  if (Array.isArray(v)) return `[${v.map((e) => fmtArg(e, verb, f, true)).join(' ')}]`;
  if (isObject(v))
    return `map[${keysOf(v)
      .map((k) => `${fmtArg(k, verb, f, true)}:${fmtArg(v[k], verb, f, true)}`)
      .join(' ')}]`;
  let out: string | undefined;
  if (typeof v === 'boolean') out = verb === 'v' || verb === 't' ? padTo(String(v), f) : undefined;
  else if (typeof v === 'number') out = fmtNumber(v, verb, f);
  else if (typeof v === 'string') out = fmtString(v, verb, f);
  else out = padTo(String(v), f);
  return out ?? `%!${verb}(${typeName(v)}=${fmtArg(v, 'v', NO_FLAGS, true)})`;
};

// fmt's %v: how print, println and join show a value.
export const fmtV = (v: Value): string => fmtArg(v, 'v', NO_FLAGS, false);

// Reads a width or precision: digits, or * taking the next argument; NaN when * meets a non-integer.
const readNumber = (format: string, at: { i: number; next: number }, args: Value[]): number | undefined => {
  if (format[at.i] === '*') {
    at.i++;
    const a = args[at.next++];
    return Number.isSafeInteger(a) ? (a as number) : Number.NaN;
  }
  const start = at.i;
  while (format[at.i] >= '0' && format[at.i] <= '9') at.i++;
  return at.i > start ? Number(format.slice(start, at.i)) : undefined;
};

// Go's fmt.Sprintf: flags, width, precision, the verbs above, and its %!verb(...) / %!(EXTRA ...) complaints.
export const sprintf = (format: string, args: Value[]): string => {
  let out = '';
  const at = { i: 0, next: 0 };
  while (at.i < format.length) {
    const pct = format.indexOf('%', at.i);
    if (pct < 0) {
      out += format.slice(at.i);
      break;
    }
    out += format.slice(at.i, pct);
    at.i = pct + 1;
    const f: Flags = { ...NO_FLAGS };
    for (; ; at.i++) {
      const c = format[at.i];
      if (c === '-') f.minus = true;
      else if (c === '+') f.plus = true;
      else if (c === '#') f.sharp = true;
      else if (c === ' ') f.space = true;
      else if (c === '0') f.zero = true;
      else break;
    }
    f.width = readNumber(format, at, args);
    if (Number.isNaN(f.width)) [out, f.width] = [`${out}%!(BADWIDTH)`, undefined];
    else if (f.width !== undefined && f.width < 0) [f.minus, f.width] = [true, -f.width];
    if (format[at.i] === '.') {
      at.i++;
      f.prec = readNumber(format, at, args) ?? 0;
      if (Number.isNaN(f.prec)) [out, f.prec] = [`${out}%!(BADPREC)`, undefined];
      else if (f.prec < 0) f.prec = undefined;
    }
    if (at.i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(at.i)!);
    at.i += verb.length;
    if (verb === '%') out += '%';
    else if (at.next >= args.length) out += `%!${verb}(MISSING)`;
    else out += fmtArg(args[at.next++], verb, f, false);
  }
  if (at.next < args.length) {
    out += `%!(EXTRA ${args
      .slice(at.next)
      .map((a) => (a == null ? '<nil>' : `${typeName(a)}=${fmtV(a)}`))
      .join(', ')})`;
  }
  return out;
};

// fmt.Sprint: operands separated by a space when neither side is a string.
export const sprint = (args: Value[]): string =>
  args.map((a, i) => (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string' ? ' ' : '') + fmtV(a)).join('');
