import { describe, expect, it } from 'vitest';
import { ignoreMatcher, parseIgnore } from '../../../src/build/ignore.js';

const matcher = (...lines: string[]) => ignoreMatcher(parseIgnore(lines.join('\n')));
const ignoredOf = (lines: string[], paths: string[]) => {
  const m = matcher(...lines);
  return paths.filter((path) => m.ignored(path));
};

describe('parseIgnore', () => {
  it('skips comments (# in column 1) and blank lines, trims and cleans each pattern', () => {
    expect(parseIgnore('\uFEFF# comment\n\n  *.md  \r\n/foo/bar\n./a/./b/../c/\n!  /keep//this\n #not-a-comment\n')).toEqual([
      { pattern: '*.md', exclusion: false },
      { pattern: 'foo/bar', exclusion: false },
      { pattern: 'a/c', exclusion: false },
      { pattern: 'keep/this', exclusion: true },
      { pattern: '#not-a-comment', exclusion: false },
    ]);
  });

  it('keeps what Clean keeps: leading "..", and "/" alone', () => {
    expect(parseIgnore('../outside\nfoo/../../up\n/\n/..')).toEqual([
      { pattern: '../outside', exclusion: false },
      { pattern: '../up', exclusion: false },
      { pattern: '/', exclusion: false },
      { pattern: '/', exclusion: false },
    ]);
  });

  it('refuses "!" alone and malformed patterns', () => {
    expect(() => parseIgnore('a\n!  ')).toThrow('.dockerignore line 2: illegal exclusion pattern: "!"');
    for (const bad of ['[', 'a[b', '[]a]', '[a-]', '[^]', 'a\\', '[z-a]'])
      expect(() => parseIgnore(bad), bad).toThrow(`.dockerignore: syntax error in pattern ${JSON.stringify(bad)}`);
    expect(() => parseIgnore('[\\]]\n[a-c]\n[^a]\n\\[')).not.toThrow();
  });
});

describe('ignoreMatcher.ignored', () => {
  it("follows the docs' example table", () => {
    const paths = [
      'somedir/temporary.txt',
      'somedir/temp',
      'somedir/temp/inside',
      'temp.txt',
      'a/b/temp',
      'somedir/subdir/temporary.txt',
      'tempa',
      'tempb',
      'temp',
      'tempab',
      'dir/tempa',
    ];
    expect(ignoredOf(['# comment'], paths)).toEqual([]);
    expect(ignoredOf(['*/temp*'], paths)).toEqual(['somedir/temporary.txt', 'somedir/temp', 'somedir/temp/inside', 'dir/tempa']);
    expect(ignoredOf(['*/*/temp*'], paths)).toEqual(['a/b/temp', 'somedir/subdir/temporary.txt']);
    expect(ignoredOf(['temp?'], paths)).toEqual(['tempa', 'tempb']);
  });

  it('matches the root as both the working and the root directory: /foo/bar and foo/bar are the same', () => {
    for (const pattern of ['/foo/bar', 'foo/bar', './foo/bar'])
      expect(ignoredOf([pattern], ['foo/bar', 'foo/bar/baz', 'x/foo/bar', 'foo', 'bar']), pattern).toEqual(['foo/bar', 'foo/bar/baz']);
  });

  it('lets ** match any number of directories, including none', () => {
    expect(ignoredOf(['**/*.go'], ['main.go', 'cmd/app/main.go', 'main.go.txt', 'go'])).toEqual(['main.go', 'cmd/app/main.go']);
    expect(ignoredOf(['abc/**'], ['abc', 'abc/def', 'abc/def/ghi', 'abcd/x'])).toEqual(['abc/def', 'abc/def/ghi']);
    expect(ignoredOf(['**/foo/bar'], ['foo/bar', 'dir/foo/bar', 'dir/dir2/foo/bar/x', 'foo/baz'])).toEqual(['foo/bar', 'dir/foo/bar', 'dir/dir2/foo/bar/x']);
    expect(ignoredOf(['a/**/b'], ['a/b', 'a/x/b', 'a/x/y/b', 'ab', 'a/xb'])).toEqual(['a/b', 'a/x/b', 'a/x/y/b']);
    expect(ignoredOf(['**'], ['file', 'dir/file'])).toEqual(['file', 'dir/file']);
    expect(ignoredOf(['**file'], ['file', 'dir/file', 'dir/xfile'])).toEqual(['file', 'dir/file', 'dir/xfile']);
    expect(ignoredOf(['**/.foo'], ['.foo', 'a/.foo', 'bar.foo'])).toEqual(['.foo', 'a/.foo']);
  });

  it("applies Go's filepath.Match: * and ? stop at /, [classes], \\ escapes, regexp characters literal", () => {
    expect(ignoredOf(['a*/b'], ['abc/b', 'a/c/b'])).toEqual(['abc/b']);
    expect(ignoredOf(['a?b'], ['a☺b', 'a/b', 'ab'])).toEqual(['a☺b']);
    expect(ignoredOf(['a[b-d]e'], ['ae', 'ace', 'aae'])).toEqual(['ace']);
    expect(ignoredOf(['a[^b-d]e'], ['aze', 'ace'])).toEqual(['aze']);
    expect(ignoredOf(['a\\*b'], ['a*b', 'axb'])).toEqual(['a*b']);
    expect(ignoredOf(['abc.def'], ['abc.def', 'abcZdef'])).toEqual(['abc.def']);
    expect(ignoredOf(['a(b)c/def'], ['a(b)c/def', 'a(b)c/xyz'])).toEqual(['a(b)c/def']);
    expect(ignoredOf(['a.|)$(}+{bc'], ['a.|)$(}+{bc'])).toEqual(['a.|)$(}+{bc']);
    expect(ignoredOf(['my-*.txt', 'x[a\\-]y', '[!]z'], ['my-file.txt', 'my.txt', 'x-y', 'xay', 'xby', '!z', 'az'])).toEqual([
      'my-file.txt',
      'x-y',
      'xay',
      '!z',
    ]);
    expect(ignoredOf(['dist/*.whl'], ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl'])).toHaveLength(1);
  });

  it('excludes everything under a directory a pattern matches', () => {
    expect(ignoredOf(['docs'], ['docs', 'docs/a/b.md', 'docsx'])).toEqual(['docs', 'docs/a/b.md']);
    expect(ignoredOf(['docs/'], ['docs/README.md'])).toEqual(['docs/README.md']);
    expect(ignoredOf(['a*'], ['ab/c'])).toEqual(['ab/c']);
  });

  it("puts back exceptions, the last matching line deciding (the docs' README examples)", () => {
    const paths = ['README.md', 'README-secret.md', 'README-user.md', 'CHANGES.md', 'src/x.go'];
    expect(ignoredOf(['*.md', '!README.md'], paths)).toEqual(['README-secret.md', 'README-user.md', 'CHANGES.md']);
    expect(ignoredOf(['*.md', '!README*.md', 'README-secret.md'], paths)).toEqual(['README-secret.md', 'CHANGES.md']);
    expect(ignoredOf(['*.md', 'README-secret.md', '!README*.md'], paths)).toEqual(['CHANGES.md']);
    expect(ignoredOf(['docs', '!docs/README.md'], ['docs/README.md', 'docs/other.md'])).toEqual(['docs/other.md']);
    expect(ignoredOf(['*', '!src', '!package.json'], ['src', 'src/a/b.ts', 'package.json', 'node_modules', 'node_modules/x'])).toEqual([
      'node_modules',
      'node_modules/x',
    ]);
    expect(ignoredOf(['**', '!util/docker/web'], ['util/docker/web/foo'])).toEqual([]);
    expect(ignoredOf(['**', '!util/docker/web', 'util/docker/web/foo'], ['util/docker/web/foo'])).toEqual(['util/docker/web/foo']);
  });

  it('cleans the path asked about, and never ignores the context itself', () => {
    const m = matcher('*', '../x');
    expect([m.ignored('.'), m.ignored(''), m.ignored('./a'), m.ignored('/a'), m.ignored('a//')]).toEqual([false, false, true, true, true]);
    expect(matcher('../x').ignored('x')).toBe(false);
    expect(ignoreMatcher([]).ignored('anything')).toBe(false);
  });
});

describe('ignoreMatcher.mayMatchInside', () => {
  it('is false without exceptions: an ignored directory is skipped whole', () => {
    expect(matcher('docs').mayMatchInside('docs')).toBe(false);
  });

  it('is true for the directories on the way to an exception, false elsewhere', () => {
    const m = matcher('docs', '!docs/api/README.md', '!assets/**');
    expect(['docs', 'docs/api', 'docs/api/README.md', 'docs/internal', 'assets', 'other'].filter((dir) => m.mayMatchInside(dir))).toEqual([
      'docs',
      'docs/api',
      'docs/api/README.md',
      'assets',
    ]);
  });

  it('is true everywhere when an exception holds a glob', () => {
    const m = matcher('vendor', '!**/*.go');
    expect([m.mayMatchInside('vendor'), m.mayMatchInside('x/y')]).toEqual([true, true]);
    expect(matcher('a', '!a/*.txt').mayMatchInside('b')).toBe(true);
    expect(matcher('a', '!a/b/*').mayMatchInside('c')).toBe(false);
  });
});
