import { describe, expect, it } from 'vitest';
import { expandWord, expandWords, lexWords } from '../../../src/build/expand.js';
import { CliError } from '../../../src/errors.js';

const vars =
  (values: Record<string, string>) =>
  (name: string): string | undefined =>
    Object.hasOwn(values, name) ? values[name] : undefined;
const env = vars({ PWD: '/home', SHELL: 'bash', NULL: '', set: 'value', empty: '', KOREAN: '한국어', space: 'abc  def', leading: '  ab c' });
const word = (text: string, escapeToken = '\\') => expandWord(text, env, escapeToken);

describe('expandWord: variables', () => {
  it('expands $NAME and ${NAME}; an unset variable is empty', () => {
    expect(word('he$PWD')).toBe('he/home');
    expect(word('he${PWD}xx')).toBe('he/homexx');
    expect(word('${hi}_bar')).toBe('_bar');
    expect(word('$KOREAN!')).toBe('한국어!');
  });

  it("follows the docs' table of ${variable:-word} ${variable-word} ${variable:+word} ${variable+word}", () => {
    expect([word('${set:-word}'), word('${empty:-word}'), word('${unset:-word}')]).toEqual(['value', 'word', 'word']);
    expect([word('${set-word}'), word('${empty-word}'), word('${unset-word}')]).toEqual(['value', '', 'word']);
    expect([word('${set:+word}'), word('${empty:+word}'), word('${unset:+word}')]).toEqual(['word', '', '']);
    expect([word('${set+word}'), word('${empty+word}'), word('${unset+word}')]).toEqual(['word', 'word', '']);
  });

  it('expands variables and quotes inside the word of a modifier', () => {
    expect(word('he${XXX:-$PWD}xx')).toBe('he/homexx');
    expect(word('he${XXX:-${PWD:-yyy}}xx')).toBe('he/homexx');
    expect(word('he${XXX:-${YYY:-yyy}}xx')).toBe('heyyyxx');
    expect(word('he${PWD:+${SHELL}}xx')).toBe('hebashxx');
    expect(word('${XXX:-"a }b"}')).toBe('a }b');
    expect(word('he${XXX:-\\$PWD:}xx')).toBe('he$PWD:xx');
    expect(word('he${XXX:-\\${PWD}z}xx')).toBe('he${PWDz}xx');
    expect(word('${aaa:-bbb}}')).toBe('bbb}');
  });

  it('${VAR?msg} and ${VAR:?msg} fail with the message when VAR is unset (or, with :, empty)', () => {
    expect(word('he${PWD?}')).toBe('he/home');
    expect(word('he${NULL?}')).toBe('he');
    expect(() => word('${NULL:?}')).toThrow('NULL: is not allowed to be empty');
    expect(() => word('${XXX?}')).toThrow('XXX: is not allowed to be unset');
    let error: unknown;
    try {
      word('${TOKEN:?set TOKEN with --build-arg}');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe('EUSAGE');
    expect((error as CliError).message).toBe('failed to process "${TOKEN:?set TOKEN with --build-arg}": TOKEN: set TOKEN with --build-arg');
  });

  it('keeps $ literal where no name follows, and treats positional and special parameters as unset', () => {
    expect(word('$.')).toBe('$.');
    expect(word('he$.x')).toBe('he$.x');
    expect(word('cost: 5$')).toBe('cost: 5$');
    expect(word('he$1x')).toBe('hex');
    expect(word('$999aaa')).toBe('aaa');
    expect(word('$@@@')).toBe('@@');
    expect(word('${#:-bbb}')).toBe('bbb');
    expect(word('${1:-bbb}aaa')).toBe('bbbaaa');
  });

  it('refuses malformed substitutions', () => {
    for (const bad of ['${}', 'he${}xx', '${.}', '${:}', '${:-bbb}', '${{aaa}', '${aaa', '${aaa:-bbb', '${aaa:-bbb ${foo}', '${PWD:=000}', 'he${XXX:YYY}'])
      expect(() => word(bad), bad).toThrow(/failed to process/);
    expect(() => word('${aaa')).toThrow("syntax error: missing '}'");
    expect(() => word('${}')).toThrow('syntax error: bad substitution');
    expect(() => word('${PWD:=000}')).toThrow('unsupported modifier (:=) in substitution');
    expect(() => word('${PWD=000}')).toThrow('unsupported modifier (=) in substitution');
  });

  it("supports the docs' pattern modifiers # ## % %% / //", () => {
    const str = vars({ str: 'foobarbaz', file: 'archive.tar.gz', star: 'a*b*c' });
    const w = (text: string) => expandWord(text, str);
    expect([w('${str#f*b}'), w('${str##f*b}'), w('${str%b*}'), w('${str%%b*}')]).toEqual(['arbaz', 'az', 'foobar', 'foo']);
    expect([w('${str/ba/fo}'), w('${str//ba/fo}')]).toEqual(['fooforbaz', 'fooforfoz']);
    expect([w('${file%.*}'), w('${file%%.*}'), w('${file#*.}')]).toEqual(['archive.tar', 'archive', 'tar.gz']);
    expect(w('${star//\\*/-}')).toBe('a-b-c');
    expect(w('${str#x}')).toBe('foobarbaz');
    expect(w('${nothing%%b*}')).toBe('');
    expect(() => w('${str:#f}')).toThrow('unsupported modifier (:#) in substitution');
  });
});

describe('expandWord: quotes and escapes', () => {
  it('takes single quotes literally and removes them', () => {
    expect(word("he'll'o")).toBe('hello');
    expect(word("'$PWD'")).toBe('$PWD');
    expect(word("'he\\$PWD'")).toBe('he\\$PWD');
    expect(word("'hello\\'")).toBe('hello\\');
    expect(word('\'"hello"\'')).toBe('"hello"');
    expect(word("안'녕'하세요")).toBe('안녕하세요');
  });

  it('expands inside double quotes, where the escape only escapes " $ and itself', () => {
    expect(word('"he${PWD}"')).toBe('he/home');
    expect(word(`"he'$PWD'"`)).toBe("he'/home'");
    expect(word('"he\\$PWD"')).toBe('he$PWD');
    expect(word('"he\\\\$PWD"')).toBe('he\\/home');
    expect(word('"abc\\tdef"')).toBe('abc\\tdef');
    expect(word('"a\\"b"')).toBe('a"b');
  });

  it('lets the escape character escape the next character outside quotes', () => {
    expect(word('\\$foo')).toBe('$foo');
    expect(word('\\${foo}')).toBe('${foo}');
    expect(word('abc\\tdef')).toBe('abctdef');
    expect(word("he\\'llo")).toBe("he'llo");
    expect(word('Rex\\ The\\ Dog')).toBe('Rex The Dog');
    expect(word('hello\\')).toBe('hello');
    expect(word('hello\\\\')).toBe('hello\\');
  });

  it('uses ` as the escape character under `# escape=`` and leaves backslashes alone', () => {
    expect(word('c:\\windows\\$x', '`')).toBe('c:\\windows\\');
    expect(word('`$PWD and c:\\', '`')).toBe('$PWD and c:\\');
    expect(word('"`"quoted`""', '`')).toBe('"quoted"');
  });

  it('refuses unterminated quotes', () => {
    expect(() => word("he'llo")).toThrow('unexpected end of statement while looking for matching single-quote');
    expect(() => word('"hello\\"')).toThrow('unexpected end of statement while looking for matching double-quote');
    expect(() => word("he\\\\'llo")).toThrow(/single-quote/);
  });

  it('keeps whitespace inside one word', () => {
    expect(word('  a  b ')).toBe('  a  b ');
    expect(word('${space}')).toBe('abc  def');
  });
});

describe('expandWords', () => {
  const words = (text: string) => expandWords(text, env);

  it('splits on unquoted whitespace after expansion, as BuildKit does for EXPOSE', () => {
    expect(words('hello there     ')).toEqual(['hello', 'there']);
    expect(words('hello${space}bye')).toEqual(['helloabc', 'defbye']);
    expect(words('hello"${space}"bye')).toEqual(['helloabc  defbye']);
    expect(words('hello "${space}"bye')).toEqual(['hello', 'abc  defbye']);
    expect(words('hello${leading}def')).toEqual(['hello', 'ab', 'cdef']);
    expect(words('hello"${leading}" def')).toEqual(['hello  ab c', 'def']);
  });

  it('keeps quoted and escaped blanks inside a word', () => {
    expect(words('hello\\ there')).toEqual(['hello there']);
    expect(words('hello" there  "')).toEqual(['hello there  ']);
    expect(words('hello\\" there')).toEqual(['hello"', 'there']);
    expect(words("hello'$there'")).toEqual(['hello$there']);
    expect(words('"" a')).toEqual(['a']);
  });

  it('keeps `<<` and the blanks after it with the next word', () => {
    expect(words('cat << EOF > file')).toEqual(['cat', '<< EOF', '>', 'file']);
    expect(words('a<b')).toEqual(['a<b']);
  });
});

describe('lexWords options', () => {
  const none = () => undefined;

  it('rawQuotes and rawEscapes keep quote and escape characters', () => {
    expect(lexWords(`a "b c" 'd' \\e`, none, { rawQuotes: true }).words).toEqual(['a', '"b c"', "'d'", 'e']);
    expect(lexWords(`a "b c" 'd' \\e`, none, { rawQuotes: true, rawEscapes: true }).words).toEqual(['a', '"b c"', "'d'", '\\e']);
  });

  it('skipUnset leaves references to unset variables as written', () => {
    expect(lexWords('$A ${B} ${C:-x} ${D/a/b} $PWD', env, { skipUnset: true }).word).toBe('$A ${B} ${C:-x} ${D/a/b} /home');
  });

  it('skipQuotes (COPY heredoc bodies) expands inside quotes and keeps them', () => {
    const name = vars({ name: 'world' });
    expect(lexWords(`Hello '\${name}'!\n"\${name}" \\$name \\\\`, name, { skipQuotes: true }).word).toBe(`Hello 'world'!\n"world" $name \\`);
  });
});
