// Go's text/template language as Podman evaluates --format: the template is lexed and parsed once (cached by its
// text), then evaluated over skiff's JSON-like data with Go's builtins, Podman's functions and fmt's %v printing.
import { CliError } from '../../errors.js';

type Value = unknown;
type Obj = Record<string, Value>;
interface Span {
  pos: number;
  end: number;
}
interface Src {
  name: string;
  text: string;
}

// ---- Values as Go sees them

// A plain object from JSON-like data (Go's map or struct), as opposed to arrays, null and class instances.
const isObject = (v: Value): v is Obj => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

// The keys Go would see in a map, in the order it ranges and prints them (sorted; absent values left out).
const keysOf = (o: Obj): string[] =>
  Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();

// skiff's data does not say which objects are Go structs (an unknown field is an error) and which are maps (a missing
// key is no value): objects whose keys all start with a capital letter, as exported struct fields do, are structs.
const isStructLike = (o: Obj): boolean => {
  const keys = Object.keys(o);
  return keys.length > 0 && keys.every((k) => k[0] >= 'A' && k[0] <= 'Z');
};

// The Go type a value stands for, as error messages and %T name it.
const typeName = (v: Value): string => {
  if (v === undefined || v === null) return 'nil';
  if (typeof v === 'number') return Number.isSafeInteger(v) ? 'int' : 'float64';
  if (Array.isArray(v)) return '[]interface {}';
  if (isObject(v)) return 'map[string]interface {}';
  return typeof v === 'boolean' ? 'bool' : typeof v;
};

// Go's truth for if, with, and, or and not: false, 0, "", nil and empty arrays and maps are false.
const truth = (v: Value): boolean => {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return keysOf(v).length > 0;
  return true;
};

// ---- fmt: Go's printing of values

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
const isPrint = (ch: string): boolean => /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch);
const QUOTED: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\' };
// Upper-case hex digits, zero-padded to width.
const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');

// Pads to the width in characters, as fmt does (zero padding only where the verb allows it).
const padTo = (s: string, f: Flags, zeroOK = true): string => {
  if (f.width === undefined) return s;
  const missing = f.width - [...s].length;
  if (missing <= 0) return s;
  if (f.minus) return s + ' '.repeat(missing);
  return (f.zero && zeroOK ? '0' : ' ').repeat(missing) + s;
};

// strconv.Quote / QuoteRune: Go-escaped, printable characters kept.
const quote = (s: string, q = '"'): string => {
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
const fmtV = (v: Value): string => fmtArg(v, 'v', NO_FLAGS, false);

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
const sprintf = (format: string, args: Value[]): string => {
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
const sprint = (args: Value[]): string => args.map((a, i) => (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string' ? ' ' : '') + fmtV(a)).join('');

// ---- Functions: Go's builtins and Podman's report funcs

// A function's failure; Go prefixes "error calling NAME: " unless the arguments had the wrong type.
class FuncError extends Error {
  constructor(
    message: string,
    readonly calling = true,
  ) {
    super(message);
  }
}

// A string parameter: scalars are taken as fmt shows them and nil as "", where Go's typed field would be "".
const str = (v: Value): string => {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return fmtV(v);
  throw new FuncError(`wrong type for value; expected string; got ${typeName(v)}`, false);
};

// An int parameter.
const int = (v: Value): number => {
  if (Number.isSafeInteger(v)) return v as number;
  throw new FuncError(`wrong type for value; expected int; got ${typeName(v)}`, false);
};

// An index into something of length cap, checked as Go's index and slice check it.
const indexArg = (v: Value, cap: number): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new FuncError(`cannot index slice/array with type ${typeName(v)}`);
  if (v < 0 || v > cap) throw new FuncError(`index out of range: ${v}`);
  return v;
};

// index ITEM KEYS...: arrays and strings by position (a string gives a byte), objects by key.
const index = (item: Value, keys: Value[]): Value => {
  for (const key of keys) {
    if (item === undefined || item === null) return undefined;
    if (Array.isArray(item) || typeof item === 'string') {
      const seq = typeof item === 'string' ? Buffer.from(item) : item;
      const i = indexArg(key, seq.length);
      if (i === seq.length) throw new FuncError(`index out of range: ${i}`);
      item = seq[i];
    } else if (isObject(item)) {
      if (typeof key !== 'string') throw new FuncError(`value has type ${typeName(key)}; should be string`);
      // A missing key gives the map's zero value: "" in a map of strings such as Labels, else nil.
      if (Object.hasOwn(item, key)) item = item[key];
      else item = Object.values(item).every((x) => typeof x === 'string') ? '' : undefined;
    } else throw new FuncError(`can't index item of type ${typeName(item)}`);
  }
  return item;
};

// slice ITEM [I [J [K]]]: item[I:J(:K)] for arrays and (by bytes) strings.
const slice = (item: Value, idx: Value[]): Value => {
  if (item === undefined || item === null) throw new FuncError('slice of untyped nil');
  if (idx.length > 3) throw new FuncError(`too many slice indexes: ${idx.length}`);
  const bytes = typeof item === 'string' ? Buffer.from(item) : undefined;
  if (bytes && idx.length === 3) throw new FuncError('cannot 3-index slice a string');
  if (!bytes && !Array.isArray(item)) throw new FuncError(`can't slice item of type ${typeName(item)}`);
  const cap = (bytes ?? (item as Value[])).length;
  const ix = [0, cap, cap].map((d, k) => (k < idx.length ? indexArg(idx[k], cap) : d));
  if (ix[0] > ix[1] || ix[1] > ix[2]) throw new FuncError(`invalid slice index: ${ix[0] > ix[1] ? `${ix[0]} > ${ix[1]}` : `${ix[1]} > ${ix[2]}`}`);
  return bytes ? bytes.subarray(ix[0], ix[1]).toString() : (item as Value[]).slice(ix[0], ix[1]);
};

// The kind eq and lt compare by; numbers are one kind since JSON does not tell int from float.
const kindOf = (v: Value): string => (v === undefined || v === null ? 'nil' : Array.isArray(v) || isObject(v) ? 'other' : typeof v);

// eq A B C...: A equals any of the others.
const eq = (a: Value, ...others: Value[]): boolean => {
  if (!others.length) throw new FuncError('missing argument for comparison');
  for (const b of others) {
    const [ka, kb] = [kindOf(a), kindOf(b)];
    if (ka !== kb) {
      if (ka !== 'nil' && kb !== 'nil') throw new FuncError('incompatible types for comparison');
    } else if (ka === 'other') throw new FuncError(`non-comparable type ${fmtV(a)}: ${typeName(a)}`);
    else if (ka === 'nil' || a === b) return true;
  }
  return false;
};

// lt A B: numbers or strings of the same kind.
const lt = (a: Value, b: Value): boolean => {
  const [ka, kb] = [kindOf(a), kindOf(b)];
  if (ka === 'nil' || ka === 'other' || kb === 'nil' || kb === 'other') throw new FuncError('invalid type for comparison');
  if (ka !== kb) throw new FuncError('incompatible types for comparison');
  if (ka === 'boolean') throw new FuncError('invalid type for comparison');
  return (a as number | string) < (b as number | string);
};

// html, js and urlquery escape their one string argument, or fmt.Sprint of all of them.
const textOf = (args: Value[]): string => (args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args));

const JS_NAMED: Record<string, string> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D' };

// template.JSEscapeString: quotes, <>&= and control or unprintable characters as escapes.
const jsEscape = (s: string): string => {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    out += JS_NAMED[ch] ?? (c < 0x20 || (c >= 0x80 && !isPrint(ch)) ? `\\u${hex(c, 4)}` : ch);
  }
  return out;
};

// template.HTMLEscapeString.
const htmlEscape = (s: string): string =>
  s.replace(/["'&<>\0]/g, (c) => ({ '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;', '\0': '\uFFFD' })[c]!);

// url.QueryEscape: all but A-Z a-z 0-9 - _ . ~ escaped, space as +.
const queryEscape = (s: string): string =>
  [...Buffer.from(s)].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : b === 32 ? '+' : `%${hex(b, 2)}`)).join('');

// strings.Title: the first letter of each word upper-cased, the rest left alone.
const title = (s: string): string => {
  let out = '';
  let prev = ' ';
  for (const ch of s) {
    const separator = prev < '\x80' ? !/[A-Za-z0-9_]/.test(prev) : /\s/u.test(prev);
    out += separator ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
};

// len: bytes of a string (as Go counts), elements of an array or map; nil (Go's nil slice or map) is 0.
const length = (v: Value): number => {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (isObject(v)) return keysOf(v).length;
  throw new FuncError(`len of type ${typeName(v)}`);
};

interface Func {
  min: number;
  max?: number;
  fn?: (args: Value[]) => Value; // and/or have none: Exec.call evaluates them lazily
}

const FUNCS: Record<string, Func> = {
  and: { min: 1 },
  or: { min: 1 },
  not: { min: 1, max: 1, fn: ([a]) => !truth(a) },
  len: { min: 1, max: 1, fn: ([a]) => length(a) },
  index: { min: 1, fn: ([item, ...keys]) => index(item, keys) },
  slice: { min: 1, fn: ([item, ...idx]) => slice(item, idx) },
  print: { min: 0, fn: sprint },
  printf: { min: 1, fn: ([format, ...args]) => sprintf(str(format), args) },
  println: { min: 0, fn: (a) => `${a.map(fmtV).join(' ')}\n` },
  html: { min: 0, fn: (a) => htmlEscape(textOf(a)) },
  js: { min: 0, fn: (a) => jsEscape(textOf(a)) },
  urlquery: { min: 0, fn: (a) => queryEscape(textOf(a)) },
  eq: { min: 1, fn: ([a, ...others]) => eq(a, ...others) },
  ne: { min: 2, max: 2, fn: ([a, b]) => !eq(a, b) },
  lt: { min: 2, max: 2, fn: ([a, b]) => lt(a, b) },
  le: { min: 2, max: 2, fn: ([a, b]) => lt(a, b) || eq(a, b) },
  gt: { min: 2, max: 2, fn: ([a, b]) => !(lt(a, b) || eq(a, b)) },
  ge: { min: 2, max: 2, fn: ([a, b]) => !lt(a, b) },
  // JSON-like data holds no Go functions, so call fails as Go's does on a non-function.
  call: {
    min: 1,
    fn: ([f]) => {
      throw new FuncError(f === undefined || f === null ? 'call of nil' : `non-function of type ${typeName(f)}`);
    },
  },
  // Podman's report.DefaultFuncs.
  json: {
    min: 1,
    max: 1,
    fn: ([v]) =>
      JSON.stringify(v === undefined ? null : v)
        .replace(/\u2028/g, '\\u2028')
        .replace(/\u2029/g, '\\u2029'),
  },
  lower: { min: 1, max: 1, fn: ([s]) => str(s).toLowerCase() },
  upper: { min: 1, max: 1, fn: ([s]) => str(s).toUpperCase() },
  title: { min: 1, max: 1, fn: ([s]) => title(str(s)) },
  split: { min: 2, max: 2, fn: ([s, sep]) => (str(sep) === '' ? [...str(s)] : str(s).split(str(sep))) },
  join: {
    min: 2,
    max: 2,
    fn: ([list, sep]) => {
      if (list === undefined || list === null) return '';
      if (!Array.isArray(list)) throw new FuncError(`wrong type for value; expected []string; got ${typeName(list)}`, false);
      return list.map((e) => (typeof e === 'string' ? e : fmtV(e))).join(str(sep));
    },
  },
  truncate: {
    min: 2,
    max: 2,
    fn: ([s, n]) => {
      if (int(n) < 0) throw new FuncError(`slice bounds out of range [:${n}]`);
      return [...str(s)].slice(0, int(n)).join('');
    },
  },
  pad: {
    min: 3,
    max: 3,
    fn: ([s, before, after]) => {
      if (int(before) < 0 || int(after) < 0) throw new FuncError('strings: negative Repeat count');
      return str(s) === '' ? '' : ' '.repeat(int(before)) + str(s) + ' '.repeat(int(after));
    },
  },
};

// ---- Lexing

type TokKind = 'field' | 'var' | 'dot' | 'ident' | 'keyword' | 'string' | 'number' | 'bool' | 'nil' | '(' | ')' | '|' | ':=' | '=' | ',';
interface Tok extends Span {
  t: TokKind;
  v: string;
  value?: Value;
  sp: boolean; // whitespace before it: `.A .B` is two operands, `.A.B` one
}
type Piece = { kind: 'text'; text: string } | { kind: 'action'; toks: Tok[]; pos: number };

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);
const NUMBER = /[+-]?(?:0[xX][\da-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*)?(?:\.[\d_]*)?(?:[eE][+-]?\d[\d_]*)?)/y;
const WORD = /[\p{L}\p{N}_]*/uy;
// The space characters Go's lexer skips and trim markers remove.
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

// Line (from 1) and byte column (from 0) of a position, as Go's messages give them.
const lineCol = (text: string, pos: number): [number, number] => {
  const before = text.slice(0, pos);
  return [before.split('\n').length, pos - before.lastIndexOf('\n') - 1];
};

// A parse error: one line naming the template, the line and what is wrong.
const parseError = (src: Src, pos: number, msg: string): never => {
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
const lex = (src: Src): Piece[] => {
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

// ---- Parsing

type Arg = Span &
  (
    | { kind: 'field'; names: string[] }
    | { kind: 'var'; name: string; names: string[] }
    | { kind: 'chain'; base: Arg; names: string[] }
    | { kind: 'func'; name: string }
    | { kind: 'pipe'; pipe: Pipe }
    | { kind: 'dot' | 'nil' }
    | { kind: 'literal'; value: Value }
  );
interface Cmd extends Span {
  args: Arg[];
}
interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Cmd[];
}
type Control = { kind: 'if' | 'with' | 'range'; pipe: Pipe; list: Node[]; elseList?: Node[] };
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipe }
  | Control
  | { kind: 'break' | 'continue' }
  | (Span & { kind: 'template'; name: string; pipe?: Pipe });
interface Parsed {
  src: Src;
  root: Node[];
  defines: Map<string, Node[]>;
}

// The tokens of one action, read left to right.
class Stream {
  k = 0;
  constructor(
    readonly toks: Tok[],
    readonly pos: number,
  ) {}
  // The token n ahead, without taking it.
  peek(n = 0): Tok | undefined {
    return this.toks[this.k + n];
  }
  // Takes the next token.
  next(): Tok | undefined {
    return this.toks[this.k++];
  }
}

// Builds the tree from the lexed pieces, checking as Go's parser does: functions exist, variables are declared,
// every block has its {{end}}, break and continue sit inside a range.
class Parser {
  private i = 0;
  private vars = ['$'];
  private rangeDepth = 0;
  readonly defines = new Map<string, Node[]>();
  constructor(
    private readonly src: Src,
    private readonly pieces: Piece[],
  ) {}

  // A parse error at the action starting at pos.
  private fail(pos: number, msg: string): never {
    return parseError(this.src, pos, msg);
  }

  // Nodes up to the {{end}} or {{else}} closing the block ctx (or to the end of the template, when ctx is unset).
  list(ctx?: string): { nodes: Node[]; stop?: { kw: string; ts: Stream } } {
    const nodes: Node[] = [];
    while (this.i < this.pieces.length) {
      const piece = this.pieces[this.i++];
      if (piece.kind === 'text') {
        nodes.push(piece);
        continue;
      }
      const ts = new Stream(piece.toks, piece.pos);
      const kw = ts.peek()?.t === 'keyword' ? ts.next()!.v : undefined;
      const span = { pos: piece.toks[0]?.pos ?? piece.pos, end: piece.toks.at(-1)?.end ?? piece.pos };
      switch (kw) {
        case 'end':
        case 'else':
          if (!ctx || (kw === 'else' && !['if', 'with', 'range'].includes(ctx))) this.fail(piece.pos, `unexpected {{${kw}}}`);
          if (kw === 'end') this.done(ts, 'end');
          return { nodes, stop: { kw, ts } };
        case 'if':
        case 'with':
        case 'range':
          nodes.push(this.control(kw, ts));
          break;
        case 'break':
        case 'continue':
          if (!this.rangeDepth) this.fail(piece.pos, `{{${kw}}} outside {{range}}`);
          this.done(ts, kw);
          nodes.push({ kind: kw });
          break;
        case 'define':
        case 'block': {
          if (kw === 'define' && ctx) this.fail(piece.pos, `unexpected {{define}} inside {{${ctx}}}`);
          const name = this.templateName(ts, kw);
          const pipe = kw === 'block' ? this.pipeline(ts, kw) : undefined;
          this.done(ts, kw);
          this.definition(name, kw);
          if (pipe) nodes.push({ kind: 'template', name, pipe, ...span });
          break;
        }
        case 'template': {
          const name = this.templateName(ts, kw);
          const pipe = ts.peek() ? this.pipeline(ts, kw) : undefined;
          this.done(ts, kw);
          nodes.push({ kind: 'template', name, pipe, ...span });
          break;
        }
        default: {
          const pipe = this.pipeline(ts, 'command');
          this.done(ts, 'command');
          nodes.push({ kind: 'action', pipe });
        }
      }
    }
    if (ctx) this.fail(this.src.text.length, `unexpected EOF: {{${ctx}}} has no {{end}}`);
    return { nodes };
  }

  // The name of a define, block or template: a string constant.
  private templateName(ts: Stream, ctx: string): string {
    const t = ts.next();
    if (t?.t !== 'string') return this.fail(ts.pos, `unexpected ${t ? JSON.stringify(t.v) : 'end of action'} in ${ctx} clause`);
    return t.value as string;
  }

  // The body of a define or block, which sees no variables but $.
  private definition(name: string, ctx: string): void {
    const [vars, depth] = [this.vars, this.rangeDepth];
    [this.vars, this.rangeDepth] = [['$'], 0];
    this.defines.set(name, this.list(ctx).nodes);
    [this.vars, this.rangeDepth] = [vars, depth];
  }

  // if / with / range: the pipeline, the body, and an else (or else-if / else-with chain needing a single {{end}}).
  private control(kw: Control['kind'], ts: Stream): Control {
    const mark = this.vars.length;
    const pipe = this.pipeline(ts, kw);
    this.done(ts, kw);
    this.rangeDepth += kw === 'range' ? 1 : 0;
    const body = this.list(kw);
    this.rangeDepth -= kw === 'range' ? 1 : 0;
    let elseList: Node[] | undefined;
    if (body.stop?.kw === 'else') {
      const ets = body.stop.ts;
      const next = ets.peek();
      if (kw !== 'range' && next?.t === 'keyword' && next.v === kw) {
        ets.next();
        elseList = [this.control(kw, ets)];
      } else {
        this.done(ets, 'else');
        const rest = this.list(kw);
        if (rest.stop?.kw === 'else') this.fail(rest.stop.ts.pos, 'expected end; found {{else}}');
        elseList = rest.nodes;
      }
    }
    this.vars.length = mark;
    return { kind: kw, pipe, list: body.nodes, elseList };
  }

  // Fails unless the action's tokens are all used.
  private done(ts: Stream, ctx: string): void {
    const t = ts.peek();
    if (t) this.fail(ts.pos, t.t === ')' ? 'unexpected right paren' : `unexpected ${JSON.stringify(t.v)} in ${ctx}`);
  }

  // [$x :=|= | $i, $v :=] command | command ...
  private pipeline(ts: Stream, ctx: string): Pipe {
    const pipe: Pipe = { decl: [], assign: false, cmds: [] };
    const [a, b, c, d] = [ts.peek(), ts.peek(1), ts.peek(2), ts.peek(3)];
    if (a?.t === 'var' && (b?.t === ':=' || b?.t === '=')) [pipe.decl, pipe.assign, ts.k] = [[a.v], b.t === '=', ts.k + 2];
    else if (a?.t === 'var' && b?.t === ',') {
      if (ctx !== 'range') this.fail(ts.pos, `too many declarations in ${ctx}`);
      if (c?.t !== 'var' || (d?.t !== ':=' && d?.t !== '=')) return this.fail(ts.pos, 'range can only initialize variables');
      [pipe.decl, pipe.assign, ts.k] = [[a.v, c.v], d.t === '=', ts.k + 4];
    }
    for (const v of pipe.assign ? pipe.decl : []) if (!this.vars.includes(v)) this.fail(ts.pos, `undefined variable "${v}"`);
    for (;;) {
      const cmd = this.command(ts) ?? this.fail(ts.pos, pipe.cmds.length ? 'empty command' : `missing value for ${ctx}`);
      if (pipe.cmds.length && ['literal', 'dot', 'nil'].includes(cmd.args[0].kind)) {
        this.fail(ts.pos, `non executable command in pipeline stage ${pipe.cmds.length + 1}`);
      }
      pipe.cmds.push(cmd);
      if (ts.peek()?.t !== '|') break;
      ts.next();
    }
    if (!pipe.assign) this.vars.push(...pipe.decl);
    return pipe;
  }

  // Space-separated operands up to | or ) or the end of the action.
  private command(ts: Stream): Cmd | undefined {
    const args: Arg[] = [];
    for (let t = ts.peek(); t && t.t !== '|' && t.t !== ')'; t = ts.peek()) {
      args.push(this.operand(ts) ?? this.fail(ts.pos, `unexpected ${JSON.stringify(t.v)} in operand`));
      const n = ts.peek();
      if (n && n.t !== '|' && n.t !== ')' && !n.sp) this.fail(ts.pos, `unexpected ${JSON.stringify(n.v)} in operand`);
    }
    return args.length ? { args, pos: args[0].pos, end: args[args.length - 1].end } : undefined;
  }

  // A term followed by .Field.Chain written against it.
  private operand(ts: Stream): Arg | undefined {
    const term = this.term(ts);
    const names: string[] = [];
    let end = term?.end ?? 0;
    for (let t = ts.peek(); term && t?.t === 'field' && !t.sp; t = ts.peek()) {
      names.push(ts.next()!.v.slice(1));
      end = t.end;
    }
    if (!term || !names.length) return term;
    if (term.kind === 'field' || term.kind === 'var') return { ...term, names: [...term.names, ...names], end };
    if (term.kind === 'literal' || term.kind === 'dot' || term.kind === 'nil') {
      this.fail(ts.pos, `unexpected . after term ${JSON.stringify(this.src.text.slice(term.pos, term.end))}`);
    }
    return { kind: 'chain', base: term, names, pos: term.pos, end };
  }

  // One operand: a function name, ., nil, $var, .Field, a constant or a (parenthesized pipeline).
  private term(ts: Stream): Arg | undefined {
    const t = ts.peek();
    if (!t) return undefined;
    const span = { pos: t.pos, end: t.end };
    switch (t.t) {
      case 'ident':
        if (!Object.hasOwn(FUNCS, t.v)) this.fail(ts.pos, `function "${t.v}" not defined`);
        ts.next();
        return { kind: 'func', name: t.v, ...span };
      case 'dot':
      case 'nil':
        ts.next();
        return { kind: t.t, ...span };
      case 'bool':
      case 'number':
      case 'string':
        ts.next();
        return { kind: 'literal', value: t.value, ...span };
      case 'var':
        if (!this.vars.includes(t.v)) this.fail(ts.pos, `undefined variable "${t.v}"`);
        ts.next();
        return { kind: 'var', name: t.v, names: [], ...span };
      case 'field':
        ts.next();
        return { kind: 'field', names: [t.v.slice(1)], ...span };
      case '(': {
        ts.next();
        const pipe = this.pipeline(ts, 'parenthesized pipeline');
        const close = ts.next();
        if (close?.t !== ')') return this.fail(ts.pos, 'unclosed left paren');
        return { kind: 'pipe', pipe, pos: t.pos, end: close.end };
      }
    }
    return undefined;
  }
}

// ---- Evaluation

const MISSING = Symbol('no piped value');
type Signal = 'break' | 'continue' | undefined;

// One execution of a parsed template over one value: Go's exec.go state (output, variable stack, template depth).
class Exec {
  out = '';
  private vars: [string, Value][];
  private depth = 0;
  constructor(
    readonly t: Parsed,
    data: Value,
  ) {
    this.vars = [['$', data]];
  }

  // An execution error, located as Go locates it: line, column and the text of the action part that failed.
  private fail(at: Span, msg: string): never {
    const [line, col] = lineCol(this.t.src.text, at.pos);
    const context = this.t.src.text.slice(at.pos, at.end).replace(/\s+/g, ' ');
    throw new CliError('EUSAGE', `template: ${this.t.src.name}:${line}:${col}: executing at <${context}>: ${msg}`);
  }

  // Walks a list of nodes, stopping at a break or continue for the enclosing range.
  walk(dot: Value, nodes: Node[]): Signal {
    for (const n of nodes) {
      const signal = this.node(dot, n);
      if (signal) return signal;
    }
    return undefined;
  }

  // Writes one node's output: text, an action's value (unless it declares), or a control structure's chosen branch.
  private node(dot: Value, n: Node): Signal {
    switch (n.kind) {
      case 'text':
        this.out += n.text;
        return undefined;
      case 'action': {
        const v = this.pipe(dot, n.pipe);
        if (!n.pipe.decl.length) this.out += v === undefined || v === null ? '<no value>' : fmtV(v);
        return undefined;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const v = this.pipe(dot, n.pipe);
        const signal = truth(v) ? this.walk(n.kind === 'with' ? v : dot, n.list) : n.elseList && this.walk(dot, n.elseList);
        this.vars.length = mark;
        return signal;
      }
      case 'range':
        return this.range(dot, n);
      case 'template': {
        const body = this.t.defines.get(n.name) ?? this.fail(n, `template ${JSON.stringify(n.name)} not defined`);
        if (this.depth >= 1000) this.fail(n, 'exceeded maximum template depth (1000)');
        const data = n.pipe ? this.pipe(dot, n.pipe) : undefined;
        const vars = this.vars;
        [this.vars, this.depth] = [[['$', data]], this.depth + 1];
        this.walk(data, body);
        [this.vars, this.depth] = [vars, this.depth - 1];
        return undefined;
      }
      default:
        return n.kind;
    }
  }

  // range over an array, an object (sorted keys, as Go ranges a map) or an integer; else when nothing ran.
  private range(dot: Value, n: Control): Signal {
    const mark = this.vars.length;
    const val = this.pipe(dot, n.pipe);
    const body = this.vars.length;
    const { decl, assign } = n.pipe;
    let ran = false;
    // One iteration: sets the range's variables (one: the element; two: key and element), then walks the body.
    const step = (key: Value, elem: Value): boolean => {
      ran = true;
      if (assign) decl.forEach((name, i) => this.setVar(name, decl.length === 2 && i === 0 ? key : elem));
      else if (decl.length) {
        this.vars[body - 1][1] = elem;
        if (decl.length === 2) this.vars[body - 2][1] = key;
      }
      const signal = this.walk(elem, n.list);
      this.vars.length = body;
      return signal === 'break';
    };
    if (Array.isArray(val)) {
      for (let i = 0; i < val.length && !step(i, val[i]); i++);
    } else if (isObject(val)) {
      for (const k of keysOf(val)) if (step(k, val[k])) break;
    } else if (typeof val === 'number' && Number.isSafeInteger(val)) {
      if (decl.length > 1) this.fail(n.pipe.cmds[0], `can't use ${val} to iterate over more than one variable`);
      for (let i = 0; i < val && !step(i, i); i++);
    } else if (val !== undefined && val !== null) {
      this.fail(n.pipe.cmds[0], `range can't iterate over ${fmtV(val)}`);
    }
    const signal = !ran && n.elseList ? this.walk(dot, n.elseList) : undefined;
    this.vars.length = mark;
    return signal;
  }

  // $x = value: overwrites the innermost $x.
  private setVar(name: string, value: Value): void {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i][0] === name) return void (this.vars[i][1] = value);
  }

  // The innermost $x's value.
  private variable(name: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i][0] === name) return this.vars[i][1];
    return undefined;
  }

  // A pipeline: each command's value is the last argument of the next; declarations push, assignments overwrite.
  private pipe(dot: Value, pipe: Pipe): Value {
    let v: Value = MISSING;
    for (const cmd of pipe.cmds) v = this.command(dot, cmd, v);
    for (const name of pipe.decl) {
      if (pipe.assign) this.setVar(name, v);
      else this.vars.push([name, v]);
    }
    return v;
  }

  // One command of a pipeline: a field chain or function given the arguments, or a lone operand's value.
  private command(dot: Value, cmd: Cmd, final: Value): Value {
    const first = cmd.args[0];
    switch (first.kind) {
      case 'field':
        return this.fields(dot, first.names, cmd, final, first);
      case 'chain':
        return this.fields(this.arg(dot, first.base), first.names, cmd, final, first);
      case 'var':
        if (first.names.length) return this.fields(this.variable(first.name), first.names, cmd, final, first);
        break;
      case 'func':
        return this.call(dot, first, cmd, final);
      case 'nil':
        return this.fail(first, 'nil is not a command');
    }
    if (cmd.args.length > 1 || final !== MISSING) this.fail(first, `can't give argument to non-function ${this.t.src.text.slice(first.pos, first.end)}`);
    return this.arg(dot, first);
  }

  // The value of one operand used as an argument.
  private arg(dot: Value, a: Arg): Value {
    switch (a.kind) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'literal':
        return a.value;
      case 'field':
        return this.fields(dot, a.names, undefined, MISSING, a);
      case 'var':
        return a.names.length ? this.fields(this.variable(a.name), a.names, undefined, MISSING, a) : this.variable(a.name);
      case 'chain':
        return this.fields(this.arg(dot, a.base), a.names, undefined, MISSING, a);
      case 'pipe':
        return this.pipe(dot, a.pipe);
      case 'func':
        return this.call(dot, a, undefined, MISSING);
    }
  }

  // .A.B.C from receiver; only the last field may be given arguments, and data fields take none.
  private fields(receiver: Value, names: string[], cmd: Cmd | undefined, final: Value, at: Span): Value {
    const hasArgs = (cmd !== undefined && cmd.args.length > 1) || final !== MISSING;
    names.forEach((name, i) => {
      receiver = this.field(receiver, name, hasArgs && i === names.length - 1, at);
    });
    return receiver;
  }

  // One field of a struct-like object (unknown: an error) or key of a map-like one (missing: no value).
  private field(receiver: Value, name: string, hasArgs: boolean, at: Span): Value {
    if (receiver === undefined || receiver === null) return undefined;
    if (!isObject(receiver)) return this.fail(at, `can't evaluate field ${name} in type ${typeName(receiver)}`);
    const present = Object.hasOwn(receiver, name);
    if (present && !hasArgs) return receiver[name];
    const struct = isStructLike(receiver);
    if (!present && struct) this.fail(at, `can't evaluate field ${name}`);
    if (hasArgs) this.fail(at, struct ? `${name} has arguments but cannot be invoked as function` : `${name} is not a method but has arguments`);
    return undefined;
  }

  // A function call: arity checked as Go does, and/or evaluating their arguments only as far as needed.
  private call(dot: Value, fn: Arg & { kind: 'func' }, cmd: Cmd | undefined, final: Value): Value {
    const { min, max, fn: body } = FUNCS[fn.name];
    const argNodes = cmd ? cmd.args.slice(1) : [];
    const count = argNodes.length + (final === MISSING ? 0 : 1);
    const at = cmd ?? fn;
    if (count < min || (max !== undefined && count > max)) {
      this.fail(at, `wrong number of args for ${fn.name}: want ${max === min ? '' : 'at least '}${min} got ${count}`);
    }
    if (fn.name === 'and' || fn.name === 'or') {
      let v: Value;
      for (const a of argNodes) {
        v = this.arg(dot, a);
        if (truth(v) === (fn.name === 'or')) return v;
      }
      return final === MISSING ? v : final;
    }
    const args = argNodes.map((a) => this.arg(dot, a));
    if (final !== MISSING) args.push(final);
    try {
      return body!(args);
    } catch (e) {
      if (!(e instanceof FuncError)) throw e;
      return this.fail(at, e.calling ? `error calling ${fn.name}: ${e.message}` : e.message);
    }
  }
}

// ---- The two entry points

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
