// Docker's word expansion for Dockerfile arguments (BuildKit's shell/lex.go): $VAR, ${VAR}, the ${VAR:-word}
// family, quotes and the escape character, all without a shell. Nothing here reads the process environment.
import { CliError } from '../errors.js';
import { PatternError, replacePattern, trimPatternPrefix, trimPatternSuffix } from './shell-pattern.js';

// Where a variable's value comes from; undefined means unset (an empty string is set and empty).
export type Lookup = (name: string) => string | undefined;

// The lexer's modes: the parser and COPY heredocs need raw or partial expansion.
export interface LexOptions {
  /** The Dockerfile's escape character: '\\' (the default) or '`'. */
  escape?: string;
  /** Keep quote characters in the result (how the parser finds heredoc words). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Leave a reference to an unset variable as written. */
  skipUnset?: boolean;
  /** Quotes are ordinary characters (the body of a COPY heredoc). */
  skipQuotes?: boolean;
}

// Both readings of one text: as one word, and split into words.
export interface LexResult {
  /** The whole text expanded, its whitespace kept. */
  word: string;
  /** The expanded text split on unquoted whitespace; whitespace inside a variable's value splits too. */
  words: string[];
}

// Go's unicode.IsSpace.
const SPACE_RE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/;
const LETTER_RE = /^\p{L}$/u;
const DIGIT_RE = /^\p{Nd}$/u;
// The shell's special parameters ($@, $#, ...): names of their own, never set in a Dockerfile.
const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

// Whether a character is white space as Go's unicode.IsSpace sees it.
export const isSpace = (ch: string): boolean => SPACE_RE.test(ch);

class LexError extends Error {}

// The words being built: a space ends a word unless it was quoted or escaped.
class WordList {
  readonly list: string[] = [];
  private buf = '';
  private inWord = false;

  char(ch: string): void {
    if (!isSpace(ch)) this.raw(ch);
    else if (this.inWord && this.buf !== '') {
      this.list.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
  }

  raw(text: string): void {
    this.buf += text;
    this.inWord = true;
  }

  text(text: string): void {
    for (const ch of text) this.char(ch);
  }

  done(): string[] {
    if (this.buf !== '') this.list.push(this.buf);
    this.buf = '';
    return this.list;
  }
}

class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;

  constructor(
    text: string,
    private readonly lookup: Lookup,
    private readonly opts: LexOptions & { escape: string },
  ) {
    this.chars = Array.from(text);
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    const ch = this.chars[this.pos];
    if (ch !== undefined) this.pos++;
    return ch;
  }

  // Reads up to `stop` (consumed) or the end of the text.
  run(stop: string | undefined, rawEscapes: boolean): LexResult {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let word = '';
      const words = new WordList();
      for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
        if (ch === stop) {
          this.next();
          return { word, words: words.done() };
        }
        if (ch === '$') {
          const value = this.dollar();
          word += value;
          words.text(value);
          continue;
        }
        if (ch === '<' || (!this.opts.skipQuotes && (ch === "'" || ch === '"'))) {
          const value = ch === '<' ? this.heredocMark() : ch === "'" ? this.singleQuoted() : this.doubleQuoted();
          word += value;
          words.raw(value);
          continue;
        }
        this.next();
        if (ch !== this.opts.escape) {
          word += ch;
          words.char(ch);
          continue;
        }
        if (this.rawEscapes) {
          word += ch;
          words.raw(ch);
        }
        const escaped = this.next();
        if (escaped === undefined) break; // an escape at the end is dropped
        word += escaped;
        words.raw(escaped);
      }
      if (stop !== undefined) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
      return { word, words: words.done() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  // Everything up to the closing ' is literal; nothing can be escaped.
  private singleQuoted(): string {
    const open = this.next()!;
    let out = this.opts.rawQuotes ? open : '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return this.opts.rawQuotes ? out + ch : out;
      out += ch;
    }
  }

  // Variables expand; the escape character escapes only " $ and itself, and stays literal before anything else.
  private doubleQuoted(): string {
    const open = this.next()!;
    let out = this.opts.rawQuotes ? open : '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.next();
        return this.opts.rawQuotes ? out + ch : out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      let literal = this.next()!;
      if (literal === this.opts.escape) {
        if (this.rawEscapes) out += literal;
        const after = this.peek();
        if (after === undefined) continue;
        if (after === '"' || after === '$' || after === this.opts.escape) literal = this.next()!;
      }
      out += literal;
    }
  }

  // `<<` and the blanks after it stay glued to the next word, so `<< EOF` is one word.
  private heredocMark(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let out = '<<';
    for (let ch = this.peek(); ch === ' ' || ch === '\t' || ch === '\r'; ch = this.peek()) out += this.next();
    return out;
  }

  // A name: letters, digits and _, or one special parameter, or a run of digits (a positional parameter).
  private name(): string {
    let name = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === '' && DIGIT_RE.test(ch)) {
        while (this.peek() !== undefined && DIGIT_RE.test(this.peek()!)) name += this.next();
        return name;
      }
      if (name === '' && SPECIAL_PARAMS.has(ch)) return this.next()!;
      if (!LETTER_RE.test(ch) && !DIGIT_RE.test(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private value(name: string): string | undefined {
    return this.lookup(name);
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      const value = this.value(name);
      if (value === undefined && this.opts.skipUnset) return `$${name}`;
      return value ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === undefined) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.name();
    const op = this.next();
    if (op === undefined) throw new LexError("syntax error: missing '}'");
    if (op === '}') {
      const value = this.value(name);
      if (value === undefined && this.opts.skipUnset) return `\${${name}}`;
      return value ?? '';
    }
    if (op === '/') return this.substitute(name);
    if (op !== ':' && !['+', '-', '?', '#', '%'].includes(op)) throw new LexError(`unsupported modifier (${op}) in substitution`);
    return this.modify(name, op);
  }

  // ${name-word} ${name+word} ${name?word} ${name#pattern} ${name%pattern}, and the `:` forms of the first three.
  private modify(name: string, first: string): string {
    let op = first;
    let modifier = op;
    const nullIsUnset = op === ':';
    if (nullIsUnset) {
      const after = this.next();
      if (after === undefined) throw new LexError("syntax error: missing '}'");
      op = after;
      modifier += after;
    }
    const isPattern = op === '#' || op === '%';
    if (nullIsUnset && isPattern) throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    let word = this.until('}', isPattern, "syntax error: missing '}'");
    const value = this.value(name);
    if (value === undefined && this.opts.skipUnset) return `\${${name}${modifier}${word}}`;
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (op) {
      case '-':
        return unset ? word : value!;
      case '+':
        return unset ? '' : word;
      case '?':
        if (value === undefined) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (unset) throw new LexError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      case '#':
      case '%': {
        const greedy = word.startsWith(op);
        if (greedy) word = word.slice(1);
        return op === '%' ? trimPatternSuffix(word, value ?? '', greedy) : trimPatternPrefix(word, value ?? '', greedy);
      }
      default:
        throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    }
  }

  // ${name/pattern/word} replaces the first match, ${name//pattern/word} every match.
  private substitute(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const pattern = this.until('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.until('}', true, "syntax error: missing '}'");
    const value = this.value(name);
    if (value === undefined && this.opts.skipUnset) return `\${${name}/${pattern}/${replacement}}`;
    return replacePattern(pattern, value ?? '', replacement, all);
  }

  // A nested word up to `stop`; running out of text is reported as the missing `stop`.
  private until(stop: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.run(stop, rawEscapes).word;
    } catch (error) {
      if (error instanceof LexError && this.peek() === undefined) throw new LexError(missing);
      throw error;
    }
  }
}

// Expands `text` with the given options; a malformed text is a usage error naming it.
export const lexWords = (text: string, lookup: Lookup, options: LexOptions = {}): LexResult => {
  const lexer = new Lexer(text, lookup, { ...options, escape: options.escape ?? '\\' });
  try {
    return lexer.run(undefined, options.rawEscapes ?? false);
  } catch (error) {
    if (error instanceof LexError) throw new CliError('EUSAGE', `failed to process ${JSON.stringify(text)}: ${error.message}`);
    if (error instanceof PatternError)
      throw new CliError('EUSAGE', `failed to process ${JSON.stringify(text)}: invalid pattern in substitution: ${error.message}`);
    throw error;
  }
};

// One argument as ADD, COPY, ENV, LABEL, USER, WORKDIR ... see it: expanded, quotes removed, whitespace kept.
export const expandWord = (word: string, lookup: Lookup, escapeToken = '\\'): string => lexWords(word, lookup, { escape: escapeToken }).word;

// A list of arguments as EXPOSE sees it: expanded, then split on unquoted whitespace.
export const expandWords = (text: string, lookup: Lookup, escapeToken = '\\'): string[] => lexWords(text, lookup, { escape: escapeToken }).words;
