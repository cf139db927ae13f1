// The functions a template can call: Go's builtins (and, index, printf, eq, ...) and Podman's report funcs (json, upper, join, ...).
import { fmtV, hex, isPrint, sprint, sprintf } from './fmt.js';
import { isObject, keysOf, truth, typeName, type Value } from './values.js';

// A function's failure; Go prefixes "error calling NAME: " unless the arguments had the wrong type.
export class FuncError extends Error {
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

export const FUNCS: Record<string, Func> = {
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
