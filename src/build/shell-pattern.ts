// The glob patterns of ${VAR#pattern}, ${VAR%pattern} and ${VAR/pattern/word}: `?` one character, `*` any run,
// `\` escapes `*`, `?` and itself (BuildKit's shell/lex.go; no bracket expressions).

// Thrown for a malformed pattern; the lexer turns it into its one error message.
export class PatternError extends Error {}

const REGEX_SPECIAL = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

// Builds the regular expression of a pattern; Go's `.` (any character but a newline) is spelled out.
const compilePattern = (pattern: string, greedy: boolean, anchored: boolean): RegExp => {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') out += greedy ? '[^\\n]*' : '[^\\n]*?';
    else if (ch === '?') out += '[^\\n]';
    else if (ch === '\\') {
      // `\}` and `\/` only protect the end of ${...} and are not part of the pattern.
      if (chars[i + 1] === '}' || chars[i + 1] === '/') continue;
      const escaped = chars[++i];
      if (escaped !== '*' && escaped !== '?' && escaped !== '\\') throw new PatternError(`invalid escape '\\${escaped ?? ''}'`);
      out += `\\${escaped}`;
    } else out += REGEX_SPECIAL.has(ch) ? `\\${ch}` : ch;
  }
  return new RegExp(out, 'u');
};

// Reverses a pattern character by character, keeping each escape before the character it escapes.
const reversePattern = (pattern: string): string => {
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '\\' && i < chars.length - 1) {
      out.unshift(chars[i], chars[i + 1]);
      i++;
    } else out.unshift(chars[i]);
  }
  return out.join('');
};

const reverse = (text: string): string => Array.from(text).reverse().join('');

// ${VAR#pattern} (shortest) and ${VAR##pattern} (greedy): the value without the match at its start.
export const trimPatternPrefix = (pattern: string, value: string, greedy: boolean): string => {
  const match = compilePattern(pattern, greedy, true).exec(value);
  return match ? value.slice(match[0].length) : value;
};

// ${VAR%pattern} and ${VAR%%pattern}: matched on the reversed value, so the shortest match is the leftmost one.
export const trimPatternSuffix = (pattern: string, value: string, greedy: boolean): string =>
  reverse(trimPatternPrefix(reversePattern(pattern), reverse(value), greedy));

// ${VAR/pattern/word} (first match) and ${VAR//pattern/word} (every match); the word is taken literally.
export const replacePattern = (pattern: string, value: string, replacement: string, all: boolean): string => {
  const re = compilePattern(pattern, true, false);
  if (all) return value.replace(new RegExp(re.source, 'gu'), () => replacement);
  return value.replace(re, () => replacement);
};
