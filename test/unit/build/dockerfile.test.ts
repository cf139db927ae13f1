import { describe, expect, it } from 'vitest';
import { DockerfileError, parseDockerfile, parseTrigger } from '../../../src/build/dockerfile.js';
import { CliError } from '../../../src/errors.js';

const parse = (...lines: string[]) => parseDockerfile(`${lines.join('\n')}\n`);
const only = (...lines: string[]) => parse('FROM alpine', ...lines).instructions[1];
const failure = (...lines: string[]): string => {
  try {
    parse(...lines);
  } catch (error) {
    expect(error).toBeInstanceOf(DockerfileError);
    return (error as Error).message;
  }
  throw new Error('parsed without an error');
};

describe('parseDockerfile: instructions', () => {
  it('reads keywords in any case, with their line, text and unexpanded arguments', () => {
    const df = parse('# a comment', 'from alpine:3.20 AS Build', '', 'Run echo $HOME  ', '  cmd ["sh"]');
    expect(df).toMatchObject({ file: 'Dockerfile', escape: '\\' });
    expect(df.syntax).toBeUndefined();
    expect(df.instructions.map(({ keyword, line, args, json }) => ({ keyword, line, args, json }))).toEqual([
      { keyword: 'FROM', line: 2, args: ['alpine:3.20 AS Build'], json: false },
      { keyword: 'RUN', line: 4, args: ['echo $HOME'], json: false },
      { keyword: 'CMD', line: 5, args: ['sh'], json: true },
    ]);
    expect(df.instructions[1].text).toBe('Run echo $HOME  ');
    expect(df.instructions[2].text).toBe('cmd ["sh"]');
  });

  it('reports an unknown instruction at its line, in the file it was given', () => {
    expect(failure('FROM alpine', '', 'RUNN echo hi')).toBe('Dockerfile:3: unknown instruction: RUNN');
    let error: unknown;
    try {
      parseDockerfile('FROM a\nfrob x\n', 'Containerfile');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ code: 'EUSAGE', exitCode: 125, file: 'Containerfile', line: 2, message: 'Containerfile:2: unknown instruction: frob' });
  });

  it('needs FROM first, after global ARGs only', () => {
    expect(parse('ARG V=1', 'ARG W', 'FROM alpine:$V').instructions.map((i) => i.keyword)).toEqual(['ARG', 'ARG', 'FROM']);
    expect(failure('ARG V=1', 'RUN echo')).toMatch(/^Dockerfile:2: no build stage in current context/);
    expect(failure('ARG V=1')).toBe('Dockerfile:1: dockerfile contains no stages to build');
    expect(failure('# only a comment', '')).toBe('Dockerfile:2: file with no instructions');
    expect(() => parseDockerfile('')).toThrow('Dockerfile:1: file with no instructions');
  });

  it('strips a byte-order mark and reads CRLF line endings', () => {
    const df = parseDockerfile('\uFEFF# escape=`\r\nFROM alpine\r\nRUN echo a `\r\n  b\r\n');
    expect(df.escape).toBe('`');
    expect(df.instructions[1]).toMatchObject({ line: 3, text: 'RUN echo a   b', args: ['echo a   b'] });
  });
});

describe('parseDockerfile: parser directives', () => {
  it('reads escape and syntax at the very top, keys in any case, blanks allowed around =', () => {
    expect(parse('# syntax=docker/dockerfile:1', '# escape=`', 'FROM a')).toMatchObject({ syntax: 'docker/dockerfile:1', escape: '`' });
    for (const line of ['#escape=`', '# escape =`', '#\tescape= `', '# escape = `', '#\t  eScApE=`']) expect(parse(line, 'FROM a').escape, line).toBe('`');
    expect(parse('# check=skip=all', '# syntax = x/y', 'FROM a')).toMatchObject({ syntax: 'x/y', escape: '\\' });
  });

  it('treats directives after a comment, a blank line or an instruction as comments', () => {
    expect(parse('# About my dockerfile', '# escape=`', 'FROM a').escape).toBe('\\');
    expect(parse('', '# escape=`', 'FROM a').escape).toBe('\\');
    expect(parse('FROM a', '# escape=`').escape).toBe('\\');
    expect(parse('# unknowndirective=value', '# syntax=value', 'FROM a').syntax).toBeUndefined();
  });

  it('refuses a repeated directive and an escape other than \\ or `', () => {
    expect(failure('# escape=\\', '# escape=`', 'FROM a')).toBe('Dockerfile:2: only one escape parser directive can be used');
    expect(failure('# escape=$', 'FROM a')).toBe("Dockerfile:1: invalid escape token '$' does not match ` or \\");
  });

  it("runs the docs' Windows example: without `# escape=``, c:\\\\ is an escaped backslash and c:\\ continues the line", () => {
    const plain = parse('FROM microsoft/nanoserver', 'COPY testfile.txt c:\\\\', 'RUN dir c:\\');
    expect(plain.instructions.map((i) => i.text)).toEqual(['FROM microsoft/nanoserver', 'COPY testfile.txt c:\\\\', 'RUN dir c:']);
    const windows = parse('# escape=`', '', 'FROM microsoft/nanoserver', 'COPY testfile.txt c:\\', 'RUN dir c:\\');
    expect(windows.instructions.map((i) => i.text)).toEqual(['FROM microsoft/nanoserver', 'COPY testfile.txt c:\\', 'RUN dir c:\\']);
    expect(windows.instructions[2].line).toBe(5);
  });
});

describe('parseDockerfile: comments and continuation lines', () => {
  it('keeps # inside arguments, and drops comment lines inside a continued instruction', () => {
    expect(only("RUN echo 'we are running some # of cool things'").args).toEqual(["echo 'we are running some # of cool things'"]);
    expect(only('RUN echo hello \\', '# comment', 'world').text).toBe('RUN echo hello world');
    expect(only('RUN echo hello \\', '   # indented comment', 'world').text).toBe('RUN echo hello world');
  });

  it('joins continuation lines as written: leading blanks kept, trailing blanks after the escape allowed', () => {
    expect(only('RUN echo "\\', '     hello\\', '     world"').args).toEqual(['echo "     hello     world"']);
    expect(only('RUN a \\  \t', 'b').text).toBe('RUN a b');
    expect(only('RUN source $HOME/.bashrc && \\', 'echo $HOME').args).toEqual(['source $HOME/.bashrc && echo $HOME']);
  });

  it('skips empty continuation lines and ends a continuation at the end of the file', () => {
    const df = parse('FROM a', 'RUN a \\', '', '   ', '  b', 'RUN c \\');
    expect(df.instructions.map((i) => [i.line, i.text])).toEqual([
      [1, 'FROM a'],
      [2, 'RUN a   b'],
      [6, 'RUN c '],
    ]);
  });

  it('does not continue a line ending in an escaped escape character', () => {
    expect(parse('FROM a', 'RUN echo \\\\', 'RUN b').instructions).toHaveLength(3);
  });
});

describe('parseDockerfile: exec form', () => {
  it('takes a JSON array of strings as exec form, anything else as shell form', () => {
    expect(only('ENTRYPOINT ["/bin/bash", "-c", "echo hello"]')).toMatchObject({ json: true, args: ['/bin/bash', '-c', 'echo hello'] });
    expect(only('RUN ["c:\\\\windows\\\\system32\\\\tasklist.exe"]')).toMatchObject({ json: true, args: ['c:\\windows\\system32\\tasklist.exe'] });
    expect(only('RUN ["c:\\windows\\system32\\tasklist.exe"]')).toMatchObject({ json: false, args: ['["c:\\windows\\system32\\tasklist.exe"]'] });
    expect(only("CMD ['single', 'quotes']")).toMatchObject({ json: false });
    expect(only('CMD ["unterminated"')).toMatchObject({ json: false });
    expect(only('CMD []')).toMatchObject({ json: true, args: [] });
    expect(only('COPY ["a b", "/c d/"]')).toMatchObject({ json: true, args: ['a b', '/c d/'] });
    expect(only('USER ["x"]')).toMatchObject({ json: false, args: ['["x"]'] });
  });

  it('refuses a JSON array holding anything but strings', () => {
    expect(failure('FROM a', 'CMD ["echo", 1]')).toBe('Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only');
    expect(failure('FROM a', 'VOLUME [null]')).toMatch(/arrays must be comprised of strings only/);
  });

  it('requires exec form for SHELL', () => {
    expect(only('SHELL ["powershell", "-command"]').args).toEqual(['powershell', '-command']);
    expect(failure('FROM a', 'SHELL powershell -command')).toBe('Dockerfile:2: SHELL requires the arguments to be in JSON form');
    expect(failure('FROM a', 'SHELL []')).toBe('Dockerfile:2: SHELL requires at least one argument');
  });
});

describe('parseDockerfile: flags', () => {
  it('reads leading --flags in order, quotes removed, -- ending them', () => {
    const run = only('RUN --mount=type=cache,target=/root/.cache --network=none --mount="type=bind,source=a b" make');
    expect(run.flags).toEqual([
      { name: 'mount', value: 'type=cache,target=/root/.cache' },
      { name: 'network', value: 'none' },
      { name: 'mount', value: 'type=bind,source=a b' },
    ]);
    expect(run.args).toEqual(['make']);
    expect(only('COPY --link --chown=1:1 a b')).toMatchObject({
      flags: [
        { name: 'link', value: undefined },
        { name: 'chown', value: '1:1' },
      ],
      args: ['a b'],
    });
    expect(only('COPY -- --odd-name /dst/')).toMatchObject({ flags: [], args: ['--odd-name /dst/'] });
    expect(only('RUN echo --not-a-flag').flags).toEqual([]);
  });

  it('accepts only the flags each instruction takes', () => {
    expect(failure('FROM a', 'RUN --foo=bar echo')).toBe('Dockerfile:2: unknown flag: --foo');
    expect(failure('FROM a', 'ENV --x=1 a=b')).toBe('Dockerfile:2: unknown flag: --x');
    expect(failure('FROM a', 'COPY --checksum=sha256:x a b')).toBe('Dockerfile:2: unknown flag: --checksum');
    expect(failure('FROM a', 'ADD --parents a b')).toBe('Dockerfile:2: unknown flag: --parents');
    expect(failure('FROM --pull a')).toBe('Dockerfile:1: unknown flag: --pull');
    expect(failure('FROM a', 'CMD --help')).toBe('Dockerfile:2: unknown flag: --help');
    expect(only('ADD --checksum=sha256:abc --keep-git-dir=true --unpack=false --link --exclude=*.md --exclude=x https://x/a.tgz /a').flags).toHaveLength(6);
    expect(only('COPY --from=build --chmod=755 --parents --exclude=a a b').flags).toHaveLength(4);
    expect(only('HEALTHCHECK --interval=5m --timeout=3s --start-period=1s --start-interval=2s --retries=3 CMD true').flags).toHaveLength(5);
    expect(parse('FROM --platform=linux/arm64 a').instructions[0].flags).toEqual([{ name: 'platform', value: 'linux/arm64' }]);
  });

  it('checks flag values by kind: strings need a value, booleans are true or false, only --mount and --exclude repeat', () => {
    expect(failure('FROM a', 'COPY --from a b')).toBe('Dockerfile:2: missing a value on flag: --from');
    expect(failure('FROM a', 'COPY --link= a b')).toBe('Dockerfile:2: missing a value on flag: --link');
    expect(failure('FROM a', 'COPY --link=maybe a b')).toBe('Dockerfile:2: expecting boolean value for flag --link, not: maybe');
    expect(failure('FROM --platform=a --platform=b x')).toBe('Dockerfile:1: duplicate flag specified: --platform');
    expect(only('COPY --link=FALSE --exclude=a --exclude=b a b').flags).toHaveLength(3);
  });

  it('checks RUN --network, --security and --mount keys', () => {
    expect(failure('FROM a', 'RUN --network=bridge x')).toBe('Dockerfile:2: invalid network mode "bridge"');
    expect(failure('FROM a', 'RUN --security=privileged x')).toBe('Dockerfile:2: security "privileged" is not valid');
    expect(failure('FROM a', 'RUN --mount=type=cache,dest=/x make')).toBe("Dockerfile:2: unexpected key 'dest' in 'dest=/x'");
    expect(failure('FROM a', 'RUN --mount=type=cache,target make')).toBe("Dockerfile:2: invalid field 'target' must be a key=value pair");
    expect(failure('FROM a', 'RUN --mount=from=$STAGE,target=/x make')).toMatch(/'from' doesn't support variable expansion/);
  });
});

describe('parseDockerfile: arguments', () => {
  it('counts arguments as Docker does', () => {
    const cases: [string, string][] = [
      ['WORKDIR', 'WORKDIR requires exactly one argument'],
      ['USER', 'USER requires exactly one argument'],
      ['STOPSIGNAL', 'STOPSIGNAL requires exactly one argument'],
      ['MAINTAINER', 'MAINTAINER requires exactly one argument'],
      ['EXPOSE', 'EXPOSE requires at least one argument'],
      ['VOLUME', 'VOLUME requires at least one argument'],
      ['VOLUME []', 'VOLUME requires at least one argument'],
      ['VOLUME ["/a", " "]', 'VOLUME specified can not be an empty string'],
      ['ENV', 'ENV requires at least one argument'],
      ['LABEL', 'LABEL requires at least one argument'],
      ['ARG', 'ARG requires at least one argument'],
      ['ONBUILD', 'ONBUILD requires at least one argument'],
      ['HEALTHCHECK', 'HEALTHCHECK requires at least one argument'],
      ['COPY onlyone', 'COPY requires at least two arguments, but only one was provided. Destination could not be determined'],
      ['ADD ["onlyone"]', 'ADD requires at least two arguments, but only one was provided. Destination could not be determined'],
    ];
    for (const [line, message] of cases) expect(failure('FROM a', line), line).toBe(`Dockerfile:2: ${message}`);
    expect(only('RUN').args).toEqual([]);
    expect(only('CMD').args).toEqual([]);
  });

  it('checks FROM: one or three words, `AS` in any case, a valid stage name', () => {
    expect(parse('FROM a as Build').instructions[0].args).toEqual(['a as Build']);
    expect(failure('FROM')).toBe('Dockerfile:1: FROM requires either one or three arguments');
    expect(failure('FROM a b')).toBe('Dockerfile:1: FROM requires either one or three arguments');
    expect(failure('FROM a AS b c')).toBe('Dockerfile:1: FROM requires either one or three arguments');
    expect(failure('FROM a AS 1st')).toBe('Dockerfile:1: invalid name for build stage: "1st", name can\'t start with a number or contain symbols');
    expect(failure('FROM a AS we$rd')).toMatch(/invalid name for build stage/);
  });

  it('checks ENV and LABEL pairs, and ARG names', () => {
    expect(failure('FROM a', 'ENV single')).toBe('Dockerfile:2: ENV must have two arguments');
    expect(failure('FROM a', 'LABEL a=b c')).toBe('Dockerfile:2: Syntax error - can\'t find = in "c". Must be of the form: name=value');
    expect(failure('FROM a', 'ENV =x')).toBe('Dockerfile:2: ENV names can not be blank');
    expect(failure('FROM a', 'ARG a=1 =2')).toBe('Dockerfile:2: ARG names can not be blank');
    expect(only('ENV ONE TWO= THREE=world').args).toEqual(['ONE TWO= THREE=world']);
  });

  it('checks HEALTHCHECK: its type, its command, its durations and retries', () => {
    expect(failure('FROM a', 'HEALTHCHECK NONE x')).toBe('Dockerfile:2: HEALTHCHECK NONE takes no arguments');
    expect(failure('FROM a', 'HEALTHCHECK CURL x')).toBe('Dockerfile:2: Unknown type "CURL" in HEALTHCHECK (try CMD)');
    expect(failure('FROM a', 'HEALTHCHECK CMD')).toBe('Dockerfile:2: Missing command after HEALTHCHECK CMD');
    expect(failure('FROM a', 'HEALTHCHECK --interval=10 CMD true')).toBe('Dockerfile:2: time: invalid duration "10"');
    expect(failure('FROM a', 'HEALTHCHECK --timeout=500us CMD true')).toBe('Dockerfile:2: Interval "timeout" cannot be less than 1ms');
    expect(failure('FROM a', 'HEALTHCHECK --retries=-1 CMD true')).toBe('Dockerfile:2: --retries cannot be negative (-1)');
    expect(failure('FROM a', 'HEALTHCHECK CMD ["a", true]')).toMatch(/arrays must be comprised of strings only/);
  });
});

describe('parseDockerfile: heredocs', () => {
  it('reads a RUN heredoc body up to the line holding only its name; the next instruction keeps its line', () => {
    const df = parse('FROM debian', 'RUN <<EOT bash', '  set -ex', '# not a comment here', '  apt-get update', 'EOT', 'RUN echo done');
    expect(df.instructions[1]).toMatchObject({
      line: 2,
      text: 'RUN <<EOT bash',
      args: ['<<EOT bash'],
      heredocs: [{ name: 'EOT', content: '  set -ex\n# not a comment here\n  apt-get update\n', expand: true, chomp: false }],
    });
    expect(df.instructions[2]).toMatchObject({ line: 7, text: 'RUN echo done' });
  });

  it("reads several heredocs on one line in order (the docs' FILE1/FILE2 example)", () => {
    const run = only('RUN <<FILE1 cat > file1 && <<FILE2 cat > file2', 'I am', 'first', 'FILE1', 'I am', 'second', 'FILE2');
    expect(run.heredocs.map(({ name, content }) => [name, content])).toEqual([
      ['FILE1', 'I am\nfirst\n'],
      ['FILE2', 'I am\nsecond\n'],
    ]);
  });

  it('turns expansion off when the name is quoted, and lets <<- end at a tab-indented terminator', () => {
    expect(only('COPY <<"EOF" /a', 'x', 'EOF').heredocs[0]).toMatchObject({ name: 'EOF', expand: false, chomp: false });
    expect(only("COPY <<'EOF' /a", 'x', 'EOF').heredocs[0]).toMatchObject({ name: 'EOF', expand: false });
    expect(only('COPY <<E"O"F /a', 'x', 'EOF').heredocs[0]).toMatchObject({ name: 'EOF', expand: false });
    expect(only('COPY <<-EOT /script.sh', '\techo "hello ${FOO}"', '\tEOT').heredocs[0]).toEqual({
      name: 'EOT',
      content: '\techo "hello ${FOO}"\n',
      expand: true,
      chomp: true,
    });
    expect(only('ADD << EOF /a', 'x', 'EOF').heredocs[0]).toMatchObject({ name: 'EOF', content: 'x\n' });
  });

  it('finds heredocs only in RUN, COPY and ADD shell form, never inside quotes', () => {
    expect(parse('FROM a', 'RUN echo "<<EOF"', 'RUN b').instructions).toHaveLength(3);
    expect(parse('FROM a', 'RUN ["cat", "<<EOF"]', 'RUN b').instructions).toHaveLength(3);
    expect(() => parse('FROM a', 'LABEL x=<<EOF', 'EOF')).toThrow('Dockerfile:3: unknown instruction: EOF');
    expect(only('RUN cat <<<"a here-string"').heredocs).toHaveLength(0);
    expect(only('RUN cat << end', 'body', 'end').heredocs).toMatchObject([{ name: 'end', content: 'body\n' }]);
  });

  it('refuses an unterminated heredoc and a heredoc as COPY destination', () => {
    expect(failure('FROM a', 'RUN <<EOF', 'echo', 'EO F')).toBe('Dockerfile:2: unterminated heredoc');
    expect(failure('FROM a', 'COPY <<EOF <<EOF2', 'x', 'EOF', 'y', 'EOF2')).toBe('Dockerfile:2: COPY cannot accept a heredoc as a destination');
  });
});

describe('parseDockerfile: ONBUILD', () => {
  it('holds the trigger as text and as a parsed instruction', () => {
    const ins = only('ONBUILD COPY --from=build /usr/bin/app /app');
    expect(ins).toMatchObject({ keyword: 'ONBUILD', args: ['COPY --from=build /usr/bin/app /app'], flags: [] });
    expect(ins.onbuild).toMatchObject({
      keyword: 'COPY',
      line: 2,
      flags: [{ name: 'from', value: 'build' }],
      args: ['/usr/bin/app /app'],
      text: 'COPY --from=build /usr/bin/app /app',
    });
    expect(only('ONBUILD RUN <<EOF', 'echo hi', 'EOF').onbuild?.heredocs).toMatchObject([{ name: 'EOF', content: 'echo hi\n' }]);
  });

  it('refuses ONBUILD ONBUILD, FROM and MAINTAINER triggers, and checks the trigger like any instruction', () => {
    expect(failure('FROM a', 'ONBUILD ONBUILD RUN x')).toBe("Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    expect(failure('FROM a', 'ONBUILD from b')).toBe("Dockerfile:2: FROM isn't allowed as an ONBUILD trigger");
    expect(failure('FROM a', 'ONBUILD MAINTAINER me')).toBe("Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger");
    expect(failure('FROM a', 'ONBUILD RUNN x')).toBe('Dockerfile:2: unknown instruction: RUNN');
    expect(failure('FROM a', 'ONBUILD COPY --bogus a b')).toBe('Dockerfile:2: unknown flag: --bogus');
    expect(failure('FROM a', 'ONBUILD --x RUN y')).toBe('Dockerfile:2: unknown flag: --x');
  });

  it('parses a stored trigger on its own (parseTrigger)', () => {
    expect(parseTrigger('RUN <<EOF\necho hi\nEOF')).toMatchObject({ keyword: 'RUN', heredocs: [{ content: 'echo hi\n' }] });
    expect(() => parseTrigger('RUN a\nRUN b')).toThrow('ONBUILD:2: an ONBUILD trigger must be a single instruction');
    expect(() => parseTrigger('FROM x')).toThrow("ONBUILD:1: FROM isn't allowed as an ONBUILD trigger");
  });
});
