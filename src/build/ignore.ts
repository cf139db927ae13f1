// .dockerignore: which build-context paths a build leaves out, decided as Docker decides (moby/patternmatcher
// for the patterns, BuildKit's context walker for when an ignored directory must still be walked).
import { CliError } from '../errors.js';
import { trimSpace } from './dockerfile-syntax.js';

// One .dockerignore line that matters.
export interface IgnoreRule {
  /** The cleaned pattern (filepath.Clean, no leading "/"), without its `!`. */
  pattern: string;
  /** `!pattern`: an exception, putting back what an earlier rule left out. */
  exclusion: boolean;
}

// What a context walk asks of the .dockerignore.
export interface IgnoreMatcher {
  /** Whether a context path (slash-separated, relative to the context) is left out: the last rule matching it, or one of its parent directories, decides. */
  ignored(relPath: string): boolean;
  /** Whether an exception could put back something under this (ignored) directory, so the walker must descend into it. */
  mayMatchInside(dirRelPath: string): boolean;
}

// Go's filepath.Clean for slash paths: no empty or "." parts, ".." applied, "." for nothing.
const cleanPath = (path: string): string => {
  const rooted = path.startsWith('/');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') parts.push(part);
    else if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else if (!rooted) parts.push('..');
  }
  const joined = (rooted ? '/' : '') + parts.join('/');
  return joined === '' ? '.' : joined;
};

const syntaxError = (pattern: string): CliError => new CliError('EUSAGE', `.dockerignore: syntax error in pattern ${JSON.stringify(pattern)}`);
const escapeRe = (ch: string): string => ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
const escapeClassRe = (ch: string): string => ch.replace(/[\\^\]\[-]/g, '\\$&');

// A bracket expression of filepath.Match ([abc], [a-z], [^a-z], \ escapes) as a RegExp class; `at` is just after `[`.
const readClass = (chars: string[], at: number, pattern: string): { re: string; end: number } => {
  let i = at;
  let re = '[';
  if (chars[i] === '^') {
    re += '^';
    i++;
  }
  const readChar = (): string => {
    let ch = chars[i++];
    if (ch === undefined || ch === '-' || ch === ']') throw syntaxError(pattern);
    if (ch === '\\') ch = chars[i++];
    if (ch === undefined) throw syntaxError(pattern);
    return ch;
  };
  for (let ranges = 0; ; ranges++) {
    if (chars[i] === ']' && ranges > 0) return { re: `${re}]`, end: i + 1 };
    const lo = readChar();
    let hi = lo;
    if (chars[i] === '-') {
      i++;
      hi = readChar();
      if ((hi.codePointAt(0) ?? 0) < (lo.codePointAt(0) ?? 0)) throw syntaxError(pattern);
    }
    re += lo === hi ? escapeClassRe(lo) : `${escapeClassRe(lo)}-${escapeClassRe(hi)}`;
  }
};

// One pattern as a test of a path, with moby's four kinds: exact, prefix ("dir/**"), suffix ("**/name": any path
// ending so), or a regular expression (`*` and `?` never cross "/", "**" crosses any number of directories).
const compileRule = (pattern: string): ((path: string) => boolean) => {
  const chars = Array.from(pattern);
  let kind: 'exact' | 'prefix' | 'suffix' | 'regexp' = 'exact';
  let re = '^';
  for (let i = 0, step = 0; i < chars.length; step++) {
    const ch = chars[i++];
    if (ch === '*' && chars[i] === '*') {
      i++;
      if (chars[i] === '/') i++;
      if (i < chars.length) {
        re += '(.*/)?';
        kind = 'regexp';
      } else if (kind === 'exact') kind = 'prefix';
      else {
        re += '.*';
        kind = 'regexp';
      }
      if (step === 0) kind = 'suffix';
    } else if (ch === '*' || ch === '?') {
      re += ch === '*' ? '[^/]*' : '[^/]';
      kind = 'regexp';
    } else if (ch === '\\') {
      if (i >= chars.length) throw syntaxError(pattern);
      re += escapeRe(chars[i++]);
      kind = 'regexp';
    } else if (ch === '[') {
      const cls = readClass(chars, i, pattern);
      re += cls.re;
      i = cls.end;
      kind = 'regexp';
    } else {
      re += escapeRe(ch);
      if (ch === ']') kind = 'regexp';
    }
  }
  if (kind === 'exact') return (path) => path === pattern;
  if (kind === 'prefix') return (path) => path.startsWith(pattern.slice(0, -2));
  if (kind === 'suffix') {
    const suffix = pattern.slice(2);
    return (path) => path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
  }
  const regexp = new RegExp(`${re}$`, 'u');
  return (path) => regexp.test(path);
};

// Reads a .dockerignore: `#` in column 1 starts a comment, blank lines are skipped, each pattern is trimmed and
// cleaned (leading "/" and "./" dropped); `!` makes an exception. A malformed pattern is a usage error.
export const parseIgnore = (text: string): IgnoreRule[] => {
  const rules: IgnoreRule[] = [];
  for (const [n, raw] of text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .entries()) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('#') || trimSpace(line) === '') continue;
    let pattern = trimSpace(line);
    const exclusion = pattern.startsWith('!');
    if (exclusion) pattern = trimSpace(pattern.slice(1));
    if (pattern !== '') {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    if (exclusion && pattern === '') throw new CliError('EUSAGE', `.dockerignore line ${n + 1}: illegal exclusion pattern: "!"`);
    compileRule(pattern);
    rules.push({ pattern, exclusion });
  }
  return rules;
};

// Exceptions are whole paths unless they hold a glob (after a trailing "/*" or "/**", which is dropped).
const withoutTrailingGlob = (pattern: string): string => pattern.replace(/\/\*\*$/, '').replace(/\/\*$/, '');

// The matcher for a context walk: last matching rule wins, and a rule matching a directory matches what is inside.
export const ignoreMatcher = (rules: IgnoreRule[]): IgnoreMatcher => {
  const compiled = rules.map((rule) => ({ ...rule, matches: compileRule(rule.pattern) }));
  const exceptions = rules.filter((rule) => rule.exclusion).map((rule) => withoutTrailingGlob(rule.pattern));
  const globbedException = exceptions.some((pattern) => /[*[\]?^\\]/.test(pattern));
  return {
    ignored(relPath) {
      const path = cleanPath(relPath).replace(/^\/+/, '');
      if (path === '' || path === '.') return false;
      const parts = path.split('/');
      const parents = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
      let matched = false;
      for (const rule of compiled) {
        // An exception only matters once something matched, a rule only while nothing has.
        if (rule.exclusion !== matched) continue;
        if (rule.matches(path) || parents.some((parent) => rule.matches(parent))) matched = !rule.exclusion;
      }
      return matched;
    },
    mayMatchInside(dirRelPath) {
      if (exceptions.length === 0) return false;
      if (globbedException) return true;
      const prefix = `${cleanPath(dirRelPath).replace(/^\/+/, '')}/`;
      return exceptions.some((pattern) => `${pattern}/`.startsWith(prefix));
    },
  };
};
