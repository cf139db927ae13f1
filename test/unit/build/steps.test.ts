import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../../src/build/dockerfile.js';
import { type Step, typeInstruction } from '../../../src/build/instructions.js';

const step = (vars: Record<string, string>, ...lines: string[]): Step => {
  const ins = parseDockerfile(`FROM alpine\n${lines.join('\n')}\n`).instructions[1];
  return typeInstruction(ins, (name) => (Object.hasOwn(vars, name) ? vars[name] : undefined));
};
const run = (...lines: string[]) => step({ DIR: '/cache', ID: 'npm' }, ...lines) as Extract<Step, { kind: 'run' }>;
const copy = (vars: Record<string, string>, ...lines: string[]) => step(vars, ...lines) as Extract<Step, { kind: 'copy' | 'add' }>;

describe('typeInstruction: RUN', () => {
  it('leaves the command to the shell (shell form) or as written (exec form): no expansion', () => {
    expect(run('RUN echo $HOME')).toEqual({ kind: 'run', shell: true, text: 'echo $HOME', mounts: [], heredocs: [] });
    expect(run('RUN [ "echo", "$HOME" ]')).toEqual({ kind: 'run', shell: false, text: '', command: ['echo', '$HOME'], mounts: [], heredocs: [] });
    expect(run('RUN --network=none --security=insecure pip install x')).toMatchObject({ network: 'none', security: 'insecure', text: 'pip install x' });
  });

  it('reads --mount types and options, values expanded, with the read-only defaults', () => {
    const { mounts } = run(
      'RUN --mount=type=cache,target=$DIR,id=${ID},sharing=LOCKED,uid=1000,gid=1000,mode=0750 \\',
      '    --mount=type=bind,source=src,dst=/src,from=build \\',
      '    --mount=type=bind,target=/w,rw \\',
      '    --mount=type=secret,id=aws,target=/root/.aws/credentials,required \\',
      '    --mount=type=secret,id=API_KEY,env=API_KEY,required=false \\',
      '    --mount=type=tmpfs,destination=/tmp,size=64m \\',
      '    --mount=type=ssh \\',
      '    --mount=target=/ro,readonly=false \\',
      '    make',
    );
    expect(mounts).toEqual([
      { type: 'cache', target: '/cache', id: 'npm', sharing: 'locked', uid: 1000, gid: 1000, mode: 0o750, readOnly: false, required: false },
      { type: 'bind', source: 'src', target: '/src', from: 'build', readOnly: true, required: false },
      { type: 'bind', target: '/w', readOnly: false, required: false },
      { type: 'secret', id: 'aws', target: '/root/.aws/credentials', readOnly: true, required: true },
      { type: 'secret', id: 'API_KEY', env: 'API_KEY', readOnly: true, required: false },
      { type: 'tmpfs', target: '/tmp', size: 64 * 1024 * 1024, readOnly: false, required: false },
      { type: 'ssh', readOnly: true, required: false },
      { target: '/ro', type: 'bind', readOnly: false, required: false },
    ]);
  });

  it('refuses bad mount options at the RUN line', () => {
    const bad: [string, string][] = [
      ['type=volume,target=/x', 'unsupported mount type "volume"'],
      ['type=cache,target=/x,sharing=exclusive', 'unsupported sharing value "exclusive"'],
      ['type=bind,target=/x,required', "unexpected key 'required' for mount type 'bind'"],
      ['type=cache,target=/x,size=1g', "unexpected key 'size' for mount type 'cache'"],
      ['type=tmpfs,target=/x,size=lots', "invalid size: 'lots'"],
      ['type=cache,target=/x,mode=0999', 'invalid value 0999 for mode'],
      ['type=cache,target=/x,uid=-1', 'invalid value -1 for uid'],
      ['type=bind,target=/x,uid=1', 'uid not allowed for "bind" type mounts'],
      ['type=bind,target=/x,ro=maybe', 'invalid value for ro: maybe'],
      ['type=secret,from=x,target=/s', 'secret mount should not have a from'],
      ['type=secret', 'invalid secret mount. one of source, target required'],
      ['type=bind,target=/x,sharing=shared', 'invalid cache sharing set for bind mount'],
      ['type=bind,target=/x\\"y', 'failed to parse csv mounts: bare " in non-quoted-field'],
      ['type=bind,\\"target=/x\\"y', 'failed to parse csv mounts: extraneous or missing " in quoted-field'],
    ];
    for (const [mount, message] of bad) expect(() => run(`RUN --mount=${mount} true`), mount).toThrow(`Dockerfile:2: ${message}`);
    expect(run('RUN --mount=type=bind,\\"target=/a,b\\" true').mounts[0]).toMatchObject({ type: 'bind', target: '/a,b' });
  });

  it("runs a lone heredoc's body with the shell, or as a script file when it starts with #!", () => {
    expect(run('RUN <<EOF', '  mkdir -p foo/bar', 'EOF')).toMatchObject({ shell: true, text: '  mkdir -p foo/bar\n' });
    expect(run('RUN <<-EOF', '\t\techo tabs', '\tEOF')).toMatchObject({ text: 'echo tabs\n', heredocs: [{ content: '\t\techo tabs\n', chomp: true }] });
    const script = run('RUN <<EOT', '#!/usr/bin/env python', 'print("hello world")', 'EOT');
    expect(script).toMatchObject({ text: '/dev/pipes/EOT', script: { path: '/dev/pipes/EOT', content: '#!/usr/bin/env python\nprint("hello world")\n' } });
  });

  it('passes other heredocs to the shell after the command, each with its terminator', () => {
    expect(run('RUN <<FILE1 cat > file1 && <<FILE2 cat > file2', 'I am', 'first', 'FILE1', 'I am', 'second', 'FILE2').text).toBe(
      '<<FILE1 cat > file1 && <<FILE2 cat > file2\nI am\nfirst\nFILE1\nI am\nsecond\nFILE2',
    );
    expect(run('RUN python3 <<-EOF', '\tprint(1)', '\tEOF').text).toBe('python3 <<-EOF\n\tprint(1)\nEOF');
  });
});

describe('typeInstruction: COPY and ADD', () => {
  it('expands sources, destination, --chown and --chmod, but not --from or --exclude', () => {
    expect(
      copy({ APP: '/app', U: 'node', F: 'ignored' }, 'COPY --from=$F --chown=$U:$U --chmod=644 --link --parents --exclude=*.md --exclude=$F src/ ${APP}/'),
    ).toEqual({
      kind: 'copy',
      sources: ['src/'],
      dest: '/app/',
      from: '$F',
      chown: 'node:node',
      chmod: '644',
      link: true,
      parents: true,
      heredocs: [],
      excludes: ['*.md', '$F'],
    });
    expect(copy({}, 'COPY --link=false a b')).toMatchObject({ link: false, parents: false });
  });

  it('splits shell-form paths on blanks, and keeps JSON-form paths whole', () => {
    expect(copy({}, 'COPY  a.txt   b.txt /dst/')).toMatchObject({ sources: ['a.txt', 'b.txt'], dest: '/dst/' });
    expect(copy({ D: 'dir' }, 'COPY ["hello world.txt", "/$D/with space/"]')).toMatchObject({ sources: ['hello world.txt'], dest: '/dir/with space/' });
    expect(() => copy({}, 'COPY "a b" /dst')).toThrow(
      'Dockerfile:2: failed to process "\\"a": unexpected end of statement while looking for matching double-quote',
    );
  });

  it('types ADD flags: --checksum expanded, --keep-git-dir and --unpack only when given', () => {
    expect(copy({ SUM: 'sha256:abc' }, 'ADD --checksum=$SUM --keep-git-dir --unpack=false https://x/a.tgz /a')).toMatchObject({
      kind: 'add',
      checksum: 'sha256:abc',
      keepGitDir: true,
      unpack: false,
    });
    expect(copy({}, 'ADD a /b')).not.toHaveProperty('keepGitDir');
  });

  it('makes heredoc sources into files: tabs chomped for <<-, variables expanded unless the name is quoted', () => {
    expect(copy({}, 'COPY <<EOF greeting.txt', 'hello world', 'EOF')).toMatchObject({
      sources: [],
      dest: 'greeting.txt',
      heredocs: [{ name: 'EOF', content: 'hello world\n' }],
    });
    expect(copy({ FOO: 'bar' }, 'COPY <<-EOT /script.sh', '\techo "hello ${FOO}"', 'EOT').heredocs).toEqual([{ name: 'EOT', content: 'echo "hello bar"\n' }]);
    expect(copy({ FOO: 'bar' }, 'COPY <<-"EOT" /script.sh', '\techo "hello ${FOO}"', 'EOT').heredocs).toEqual([
      { name: 'EOT', content: 'echo "hello ${FOO}"\n' },
    ]);
    expect(copy({}, 'COPY <<EOF slash', '\\', 'EOF').heredocs[0].content).toBe('\n');
    expect(copy({}, 'COPY <<EOF slash', '\\$', 'EOF').heredocs[0].content).toBe('$\n');
    expect(copy({}, 'COPY <<"EOF" slash', '\\$', 'EOF').heredocs[0].content).toBe('\\$\n');
    expect(copy({}, 'COPY <<A <<B ./', 'a', 'A', 'b', 'B', 'COPY x y').heredocs).toEqual([
      { name: 'A', content: 'a\n' },
      { name: 'B', content: 'b\n' },
    ]);
  });
});

describe('typeInstruction: CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD, MAINTAINER', () => {
  it('keeps CMD and ENTRYPOINT as written: exec form, or shell form for the caller to wrap', () => {
    expect(step({ X: 'no' }, 'CMD ["echo", "$X"]')).toEqual({ kind: 'cmd', command: ['echo', '$X'], shellForm: false });
    expect(step({ X: 'no' }, 'ENTRYPOINT exec top -b $X')).toEqual({ kind: 'entrypoint', command: ['exec top -b $X'], shellForm: true });
    expect(step({}, 'CMD')).toEqual({ kind: 'cmd', command: [''], shellForm: true });
    expect(step({}, 'SHELL ["/bin/bash", "-c"]')).toEqual({ kind: 'shell', shell: ['/bin/bash', '-c'] });
  });

  it("types HEALTHCHECK as Docker stores it (the docs' example), durations in nanoseconds", () => {
    expect(step({}, 'HEALTHCHECK --interval=5m --timeout=3s \\', '  CMD curl -f http://localhost/ || exit 1')).toEqual({
      kind: 'healthcheck',
      test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
      interval: 300e9,
      timeout: 3e9,
    });
    expect(step({}, 'HEALTHCHECK --start-period=1m30s --start-interval=500ms --retries=5 cmd ["/bin/check", "$X"]')).toEqual({
      kind: 'healthcheck',
      test: ['CMD', '/bin/check', '$X'],
      startPeriod: 90e9,
      startInterval: 500e6,
      retries: 5,
    });
    expect(step({}, 'HEALTHCHECK --interval=0 CMD true')).toMatchObject({ interval: 0 });
    expect(step({}, 'HEALTHCHECK none')).toEqual({ kind: 'healthcheck', none: true });
  });

  it('keeps ONBUILD triggers unexpanded, heredocs appended as Docker stores them', () => {
    expect(step({ X: 'no' }, 'ONBUILD ADD . /app/$X')).toEqual({ kind: 'onbuild', text: 'ADD . /app/$X' });
    expect(step({}, 'onbuild RUN <<EOF', 'echo hi', 'EOF')).toEqual({ kind: 'onbuild', text: 'RUN <<EOF\necho hi\nEOF' });
  });

  it('keeps MAINTAINER as written', () => {
    expect(step({ X: 'no' }, 'MAINTAINER Sven <$X@home.org.au>')).toEqual({ kind: 'maintainer', name: 'Sven <$X@home.org.au>' });
  });
});
