import { describe, expect, it } from 'vitest';
import { type Dockerfile, parseDockerfile } from '../../../src/build/dockerfile.js';
import { type Step, splitStages, stageDependencies, stagesFor, typeInstruction } from '../../../src/build/instructions.js';
import { CliError } from '../../../src/errors.js';

const parse = (...lines: string[]) => parseDockerfile(`${lines.join('\n')}\n`);
const stagesOf = (lines: string[], buildArgs: Record<string, string> = {}) => splitStages(parse(...lines), buildArgs);

// Walks a stage as a builder does: ENV wins over ARG; an ARG takes the build arg, else its default, else the global ARG.
const walk = (df: Dockerfile, buildArgs: Record<string, string> = {}, index = -1): Step[] => {
  const { globalArgs, stages } = splitStages(df, buildArgs);
  const env = new Map<string, string>();
  const args = new Map<string, string | undefined>();
  const lookup = (name: string) => env.get(name) ?? args.get(name);
  return stages.at(index)!.instructions.map((ins) => {
    const step = typeInstruction(ins, lookup, df.escape);
    if (step.kind === 'env') for (const [key, value] of step.pairs) env.set(key, value);
    if (step.kind === 'arg') for (const arg of step.args) args.set(arg.name, buildArgs[arg.name] ?? arg.default ?? globalArgs[arg.name]);
    return step;
  });
};
const steps = (...lines: string[]) => walk(parse('FROM alpine', ...lines));
const step = (line: string, vars: Record<string, string> = {}): Step => {
  const ins = parse('FROM alpine', line).instructions[1];
  return typeInstruction(ins, (name) => vars[name]);
};

describe('splitStages', () => {
  it("expands FROM with global ARGs, build args overriding defaults (the docs' CODE_VERSION example)", () => {
    const lines = ['ARG  CODE_VERSION=latest', 'FROM base:${CODE_VERSION}', 'CMD  /code/run-app', '', 'FROM extras:${CODE_VERSION}', 'CMD  /code/run-extras'];
    const { globalArgs, stages } = stagesOf(lines);
    expect(globalArgs).toEqual({ CODE_VERSION: 'latest' });
    expect(stages.map(({ index, base, line, instructions }) => ({ index, base, line, count: instructions.length }))).toEqual([
      { index: 0, base: 'base:latest', line: 2, count: 1 },
      { index: 1, base: 'extras:latest', line: 5, count: 1 },
    ]);
    expect(stagesOf(lines, { CODE_VERSION: '1.2' }).stages.map((s) => s.base)).toEqual(['base:1.2', 'extras:1.2']);
  });

  it('expands a global default with the ARGs before it; an ARG without value is declared but unset', () => {
    const { globalArgs, stages } = stagesOf(['ARG REG=docker.io', 'ARG IMG="$REG/library/alpine" TAG', 'FROM ${IMG}:${TAG:-3.20}']);
    expect(globalArgs).toEqual({ REG: 'docker.io', IMG: 'docker.io/library/alpine', TAG: undefined });
    expect(stages[0].base).toBe('docker.io/library/alpine:3.20');
  });

  it('takes build args verbatim, and only for declared ARGs (or the automatic platform ARGs)', () => {
    const { globalArgs, stages } = stagesOf(['ARG V', 'FROM --platform=$BUILDPLATFORM golang:$V AS build', 'FROM alpine:$OTHER'], {
      V: '$NOT_EXPANDED',
      OTHER: 'x',
      BUILDPLATFORM: 'linux/amd64',
    });
    expect(globalArgs).toEqual({ BUILDPLATFORM: 'linux/amd64', V: '$NOT_EXPANDED' });
    expect(stages[0]).toMatchObject({ base: 'golang:$NOT_EXPANDED', name: 'build', platform: 'linux/amd64' });
    expect(stages[1].base).toBe('alpine:');
  });

  it('names stages in lower case and refuses a name used twice', () => {
    expect(stagesOf(['FROM a AS Builder', 'FROM b as RUNTIME']).stages.map((s) => s.name)).toEqual(['builder', 'runtime']);
    expect(() => stagesOf(['FROM a AS build', 'RUN x', 'FROM b AS BUILD'])).toThrow('Dockerfile:3: duplicate stage name "build" (also on line 1)');
  });

  it('refuses a blank base or platform after expansion', () => {
    expect(() => stagesOf(['ARG IMG', 'FROM $IMG'])).toThrow('Dockerfile:2: base name ($IMG) should not be blank');
    expect(() => stagesOf(['FROM --platform=$TARGETPLATFORM alpine'])).toThrow('Dockerfile:1: empty platform value from expression $TARGETPLATFORM');
  });
});

describe('stageDependencies and stagesFor', () => {
  const file = [
    'FROM golang AS Build', // 0
    'RUN go build',
    'FROM alpine AS assets', // 1
    'RUN --mount=type=bind,from=BUILD,target=/src true',
    'FROM build AS test', // 2
    'COPY --from=nginx:latest /etc/nginx /n',
    'FROM scratch', // 3
    'COPY --from=0 /app /app',
    'COPY --from=assets /a /a',
  ];
  const { stages } = stagesOf(file);

  it('finds FROM <stage>, COPY --from=<name|index> and RUN --mount from=<name>; other names are images', () => {
    expect(stageDependencies(stages)).toEqual([[], [0], [0], [0, 1]]);
    expect(stageDependencies(stagesOf(['FROM node AS node', 'COPY --from=node:20 /a /b']).stages)).toEqual([[]]);
  });

  it('refuses references to the stage itself or a later one, bad indexes and variables in --from', () => {
    const deps = (...lines: string[]) => stageDependencies(stagesOf(lines).stages);
    expect(() => deps('FROM a AS one', 'COPY --from=one /a /b')).toThrow('Dockerfile:2: --from=one refers to its own stage');
    expect(() => deps('FROM a', 'COPY --from=later /a /b', 'FROM b AS later')).toThrow(
      'Dockerfile:2: --from=later refers to stage later, which is defined later',
    );
    expect(() => deps('FROM a', 'COPY --from=1 /a /b', 'FROM b')).toThrow('Dockerfile:2: --from=1 refers to stage 1, which is defined later');
    expect(() => deps('FROM a', 'COPY --from=5 /a /b')).toThrow('Dockerfile:2: invalid stage index 5');
    expect(() => deps('FROM a', 'FROM b', 'COPY --from=$SRC /a /b')).toThrow('Dockerfile:3: variable expansion is not supported for --from');
    expect(() => deps('FROM a AS x', 'RUN --mount=from=x,target=/m true')).toThrow('Dockerfile:2: --mount from=x refers to its own stage');
  });

  it('lists the stages a target needs, dependencies first; the default target is the last stage', () => {
    expect(stagesFor(stages)).toEqual([0, 1, 3]);
    expect(stagesFor(stages, 'TEST')).toEqual([0, 2]);
    expect(stagesFor(stages, 'build')).toEqual([0]);
  });

  it('names the stages when the target is unknown', () => {
    expect(() => stagesFor(stages, 'prod')).toThrow('target stage "prod" could not be found; the stages are: build, assets, test');
    expect(() => stagesFor(stages, 'prod')).toThrow(CliError);
    expect(() => stagesFor(stagesOf(['FROM a']).stages, 'x')).toThrow('target stage "x" could not be found; no stage is named');
  });
});

describe('typeInstruction: variables and scope', () => {
  it("follows the docs' environment replacement example", () => {
    expect(steps('ENV FOO=/bar', 'WORKDIR ${FOO}', 'ADD . $FOO', 'COPY \\$FOO /quux').slice(1)).toMatchObject([
      { kind: 'workdir', path: '/bar' },
      { kind: 'add', sources: ['.'], dest: '/bar' },
      { kind: 'copy', sources: ['$FOO'], dest: '/quux' },
    ]);
  });

  it('expands a whole ENV instruction with the values from before it', () => {
    const env = steps('ENV abc=hello', 'ENV abc=bye def=$abc', 'ENV ghi=$abc');
    expect(env.map((s) => (s.kind === 'env' ? s.pairs : []))).toEqual([
      [['abc', 'hello']],
      [
        ['abc', 'bye'],
        ['def', 'hello'],
      ],
      [['ghi', 'bye']],
    ]);
  });

  it("follows the docs' ARG scope example: a variable is empty until its ARG", () => {
    const df = parse('FROM busybox', 'USER ${username:-some_user}', 'ARG username', 'USER $username');
    expect(walk(df, { username: 'what_user' }).filter((s) => s.kind === 'user')).toEqual([
      { kind: 'user', user: 'some_user' },
      { kind: 'user', user: 'what_user' },
    ]);
  });

  it('lets ENV override an ARG of the same name, and ${VAR:-default} carry a build arg into ENV', () => {
    const plain = parse('FROM ubuntu', 'ARG CONT_IMG_VER', 'ENV CONT_IMG_VER=v1.0.0', 'USER $CONT_IMG_VER');
    expect(walk(plain, { CONT_IMG_VER: 'v2.0.1' }).at(-1)).toEqual({ kind: 'user', user: 'v1.0.0' });
    const carried = parse('FROM ubuntu', 'ARG CONT_IMG_VER', 'ENV CONT_IMG_VER=${CONT_IMG_VER:-v1.0.0}');
    expect(walk(carried, { CONT_IMG_VER: 'v2.0.1' }).at(-1)).toEqual({ kind: 'env', pairs: [['CONT_IMG_VER', 'v2.0.1']] });
    expect(walk(carried).at(-1)).toEqual({ kind: 'env', pairs: [['CONT_IMG_VER', 'v1.0.0']] });
  });

  it('gives a stage ARG without value the global default (ARG VERSION after FROM busybox:$VERSION)', () => {
    const df = parse('ARG VERSION=latest', 'FROM busybox:$VERSION', 'ARG VERSION', 'WORKDIR /v/$VERSION');
    expect(walk(df).at(-1)).toEqual({ kind: 'workdir', path: '/v/latest' });
  });

  it('types ARG with several names per line, defaults expanded, names never', () => {
    expect(step('ARG user1=someuser buildno=1 flag $X="a b"', { X: 'no' })).toEqual({
      kind: 'arg',
      args: [{ name: 'user1', default: 'someuser' }, { name: 'buildno', default: '1' }, { name: 'flag' }, { name: '$X', default: 'a b' }],
    });
  });

  it('reports an expansion failure at the instruction line', () => {
    const ins = parse('FROM a', '', 'WORKDIR ${DIR:?set DIR}').instructions[1];
    expect(() => typeInstruction(ins, () => undefined, '\\', 'Containerfile')).toThrow('Containerfile:3: failed to process "${DIR:?set DIR}": DIR: set DIR');
  });

  it('uses the escape character given', () => {
    const df = parse('# escape=`', 'FROM a', 'WORKDIR c:\\app\\`$X');
    expect(typeInstruction(df.instructions[1], () => 'no', df.escape)).toEqual({ kind: 'workdir', path: 'c:\\app\\$X' });
  });
});

describe('typeInstruction: ENV, LABEL, EXPOSE, VOLUME, USER, STOPSIGNAL', () => {
  it('types ENV as in the docs, one per line or several, and the legacy `ENV key value`', () => {
    const one = steps('ENV MY_NAME="John Doe"', 'ENV MY_DOG=Rex\\ The\\ Dog', 'ENV MY_CAT=fluffy').flatMap((s) => (s.kind === 'env' ? s.pairs : []));
    const many = steps('ENV MY_NAME="John Doe" MY_DOG=Rex\\ The\\ Dog \\', '    MY_CAT=fluffy')[0];
    expect(one).toEqual([
      ['MY_NAME', 'John Doe'],
      ['MY_DOG', 'Rex The Dog'],
      ['MY_CAT', 'fluffy'],
    ]);
    expect(many).toEqual({ kind: 'env', pairs: one });
    expect(step('ENV ONE TWO= THREE=world')).toEqual({ kind: 'env', pairs: [['ONE', 'TWO= THREE=world']] });
    expect(step('ENV MY_VAR my-value $X', { X: 'x' })).toEqual({ kind: 'env', pairs: [['MY_VAR', 'my-value x']] });
  });

  it('types LABEL as in the docs, keys and values expanded', () => {
    const labels = steps(
      'LABEL "com.example.vendor"="ACME Incorporated"',
      'LABEL com.example.label-with-value="foo"',
      'LABEL description="This text illustrates \\',
      'that label-values can span multiple lines."',
      'LABEL multi.label1="value1" multi.label2=\'$value2\' other="$X"',
    );
    expect(labels.flatMap((s) => (s.kind === 'label' ? s.pairs : []))).toEqual([
      ['com.example.vendor', 'ACME Incorporated'],
      ['com.example.label-with-value', 'foo'],
      ['description', 'This text illustrates that label-values can span multiple lines.'],
      ['multi.label1', 'value1'],
      ['multi.label2', '$value2'],
      ['other', ''],
    ]);
  });

  it('types EXPOSE ports as Docker records them: protocol tcp by default, ranges spread, variables split', () => {
    expect(step('EXPOSE 80/udp')).toEqual({ kind: 'expose', ports: ['80/udp'] });
    expect(step('EXPOSE 80/TCP 8000-8002/udp $P', { P: '443 53/udp' })).toEqual({
      kind: 'expose',
      ports: ['443/tcp', '53/udp', '80/tcp', '8000/udp', '8001/udp', '8002/udp'],
    });
    expect(step('EXPOSE 127.0.0.1:8080:80 80')).toEqual({ kind: 'expose', ports: ['80/tcp'] });
    for (const [bad, message] of [
      ['EXPOSE 80/xyz', 'invalid port: "80/xyz": invalid proto: xyz'],
      ['EXPOSE http', 'invalid containerPort: http'],
      ['EXPOSE 8010-8000', 'invalid containerPort: 8010-8000'],
      ['EXPOSE 70000', 'invalid containerPort: 70000'],
    ])
      expect(() => step(bad), bad).toThrow(`Dockerfile:2: ${message}`);
  });

  it('types VOLUME in JSON or word form, expanded, and USER, WORKDIR, STOPSIGNAL expanded', () => {
    expect(step('VOLUME ["/data", "/$D"]', { D: 'x' })).toEqual({ kind: 'volume', paths: ['/data', '/x'] });
    expect(step('VOLUME /var/log /var/db')).toEqual({ kind: 'volume', paths: ['/var/log', '/var/db'] });
    expect(() => step('VOLUME $NONE')).toThrow('Dockerfile:2: VOLUME specified can not be an empty string');
    expect(step('USER ${U}:${G:-0}', { U: 'app' })).toEqual({ kind: 'user', user: 'app:0' });
    expect(step('STOPSIGNAL $SIG', { SIG: 'SIGKILL' })).toEqual({ kind: 'stopsignal', signal: 'SIGKILL' });
    expect(step('STOPSIGNAL 9')).toEqual({ kind: 'stopsignal', signal: '9' });
    expect(step('STOPSIGNAL rtmin+3')).toEqual({ kind: 'stopsignal', signal: 'rtmin+3' });
    expect(() => step('STOPSIGNAL SIGFOO')).toThrow('Dockerfile:2: invalid signal: SIGFOO');
  });
});
