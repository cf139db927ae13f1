import { describe, expect, it } from 'vitest';
import { entriesOf, escapeWords, findSection, formatUnitFile, lastOf, parseUnitFile, splitWords, unquote } from '../../../src/systemd/unit-file.js';

const parse = (text: string) => {
  const { unit, errors } = parseUnitFile(text);
  expect(errors).toEqual([]);
  return unit;
};

const words = (value: string): string[] => {
  const split = splitWords(value);
  if ('error' in split) throw new Error(split.error);
  return split.words;
};

describe('parseUnitFile', () => {
  it('reads sections and entries with their line numbers, skipping comments and blank lines', () => {
    const unit = parse('# head\n; also a comment\n[Unit]\nDescription = A web server \n\n[Service]\n  Restart=always\n');
    expect(unit.sections.map((s) => [s.name, s.line])).toEqual([
      ['Unit', 3],
      ['Service', 6],
    ]);
    expect(findSection(unit, 'Unit')!.entries).toEqual([{ key: 'Description', value: 'A web server', line: 4 }]);
    expect(lastOf(findSection(unit, 'Service'), 'Restart')).toEqual({ key: 'Restart', value: 'always', line: 7 });
  });

  it('joins continued lines with a space, skips comments inside them, and keeps the first line number', () => {
    const unit = parse('[Container]\nExec=sh -c \\\n# skipped\n; skipped too\n  "echo hi"\nImage=x\n');
    const c = findSection(unit, 'Container');
    expect(lastOf(c, 'Exec')).toEqual({ key: 'Exec', value: 'sh -c    "echo hi"', line: 2 });
    expect(lastOf(c, 'Image')!.line).toBe(6);
    expect(words(lastOf(c, 'Exec')!.value)).toEqual(['sh', '-c', 'echo hi']);
  });

  it('does not continue after an escaped backslash, and keeps a backslash on the last line', () => {
    const c = findSection(parse('[X-A]\nA=one\\\\\nB=two\\'), 'X-A');
    expect(c!.entries.map((e) => [e.key, e.value])).toEqual([
      ['A', 'one\\\\'],
      ['B', 'two\\'],
    ]);
  });

  it('keeps repeated keys in order and merges repeated sections; an empty value resets a list', () => {
    const unit = parse('[Container]\nVolume=/a:/a\n[Service]\nX=1\n[Container]\nVolume=/b:/b\nVolume=\nVolume=/c:/c\nVolume=/d:/d\n');
    expect(unit.sections.map((s) => s.name)).toEqual(['Container', 'Service']);
    const c = findSection(unit, 'Container');
    expect(c!.entries.map((e) => e.value)).toEqual(['/a:/a', '/b:/b', '', '/c:/c', '/d:/d']);
    expect(entriesOf(c, 'Volume').map((e) => [e.value, e.line])).toEqual([
      ['/c:/c', 8],
      ['/d:/d', 9],
    ]);
    expect(lastOf(findSection(parse('[A]\nK=1\nK=\n'), 'A'), 'K')).toBeUndefined();
  });

  it('reports lines it cannot read, by number', () => {
    expect(parseUnitFile('Image=x\n[Container]\nno equals sign\n[Broken\n=value\n[Ok]\n').errors).toEqual([
      { line: 1, message: 'Image= comes before any [Section] header' },
      { line: 3, message: "not a section header, a Key=Value line or a comment: 'no equals sign'" },
      { line: 4, message: "invalid section header '[Broken'" },
      { line: 5, message: "not a section header, a Key=Value line or a comment: '=value'" },
    ]);
  });

  it('takes CRLF line ends', () => {
    expect(lastOf(findSection(parse('[Unit]\r\nDescription=x\r\n'), 'Unit'), 'Description')!.value).toBe('x');
  });
});

describe('splitWords', () => {
  it('splits on whitespace and unquotes single and double quotes, also mid-word', () => {
    expect(words(' a  b\t"c d" \'e "f"\' g"h i"j ""')).toEqual(['a', 'b', 'c d', 'e "f"', 'gh ij', '']);
  });

  it('unescapes C escapes, keeps unknown ones as written', () => {
    expect(words('a\\tb "c\\"d" e\\ f \\x41\\101 \\d+ \\u00e9 tail\\')).toEqual(['a\tb', 'c"d', 'e f', 'AA', '\\d+', 'é', 'tail\\']);
    expect(words('a\\sb')).toEqual(['a b']);
    expect(words('find . \\; x\\; "\\;"')).toEqual(['find', '.', ';', 'x\\;', '\\;']);
  });

  it('refuses an unclosed quote', () => {
    expect(splitWords('echo "hi')).toEqual({ error: 'unbalanced quotes (a " is never closed)' });
    expect(splitWords("it's")).toEqual({ error: "unbalanced quotes (a ' is never closed)" });
  });
});

describe('escapeWords', () => {
  it('quotes only words that need it, and splitWords reads them back', () => {
    const argv = ['run', '--env=A=b c', 'say "hi"', 'back\\slash', 'tab\there', '', ';', "it's", '%N', '$HOME', 'line\nbreak'];
    const line = escapeWords(argv);
    expect(line).toBe('run "--env=A=b c" "say \\"hi\\"" "back\\\\slash" "tab\\there" "" \\; "it\'s" %N $HOME "line\\nbreak"');
    expect(words(line)).toEqual(argv);
  });
});

describe('formatUnitFile', () => {
  it('writes comments, then sections a blank line apart', () => {
    const unit = parse('[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\nExecStart=/bin/false\n');
    expect(formatUnitFile(unit, ['made by a test'])).toBe(
      '# made by a test\n\n[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\nExecStart=/bin/false\n',
    );
  });

  it('refuses a value with a line break', () => {
    expect(() => formatUnitFile({ sections: [{ name: 'A', line: 1, entries: [{ key: 'K', value: 'a\nb', line: 1 }] }] })).toThrow('line break');
  });

  it('unquote takes off one pair of surrounding double quotes', () => {
    expect(unquote('"curl -f x"')).toBe('curl -f x');
    expect(unquote('"a" "b"')).toBe('a" "b');
    expect(unquote('"')).toBe('"');
  });
});
