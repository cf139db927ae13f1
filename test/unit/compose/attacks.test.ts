// Hostile compose files: each attack is refused quickly with one clear line, never by exhausting
// memory, the stack or the CPU, and never by reading a device or waiting on a FIFO.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpolate, parseEnvFile } from '../../../src/compose/interpolate.js';
import { type LoadOptions, loadProject } from '../../../src/compose/load.js';
import { enableServices } from '../../../src/compose/model.js';
import { readSource } from '../../../src/compose/source.js';
import { createOptions } from '../../../src/engine/compose-create.js';
import { selectServices } from '../../../src/engine/compose-ops.js';

const tree = (files: Record<string, string>): string => {
  const dir = join(mkdtempSync(join(tmpdir(), 'compose-attacks-')), 'proj');
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
};
const load = (dir: string, options: LoadOptions = {}) => loadProject({ cwd: dir, env: {}, ...options });
const failure = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
  return 'no error';
};
const fifo = (path: string): string => {
  execFileSync('mkfifo', [path]);
  return path;
};
const svc = (body = '') => `services:\n  web:\n    image: x\n${body}`;

describe('YAML', () => {
  it('refuses an alias bomb (billion laughs) quickly, naming it', () => {
    let text = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n';
    let prev = 'a';
    for (const n of 'bcdefghi') {
      text += `${n}: &${n} [${Array(10).fill(`*${prev}`).join(',')}]\n`;
      prev = n;
    }
    const t0 = Date.now();
    expect(failure(() => readSource(text, 'f.yaml'))).toMatch(/^ComposeFileError: f.yaml:\d+: .*aliases expand to more than 100000 values/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('refuses an alias inside its own anchor', () => {
    expect(failure(() => readSource('a: &a\n  b: *a\n', 'f.yaml'))).toMatch(/^ComposeFileError: f.yaml:2: a.b: the alias \*a is inside its own anchor/);
  });

  it('refuses deep nesting with a message, not a stack overflow', () => {
    const flow = `x: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    expect(failure(() => readSource(flow, 'f.yaml'))).toMatch(/^ComposeFileError: f.yaml:1: not valid YAML: nested too deeply|nested more than 256 levels/);
    const block = Array.from({ length: 400 }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
    expect(failure(() => readSource(block, 'f.yaml'))).toMatch(
      /^ComposeFileError: f.yaml:\d+: k\.k\.k.*….*k\.k: nested more than 256 levels deep: refusing it$/,
    );
  });

  it('merges << as Compose (YAML merge keys): keys given win, earlier sources over later ones', () => {
    const { value } = readSource('b: &b {x: 1, y: 2}\nc: &c {y: 3, z: 4}\na:\n  <<: [*b, *c]\n  x: 9\nd:\n  w: 0\n  <<: *c\n', 'f.yaml');
    expect((value as Record<string, unknown>).a).toEqual({ x: 9, y: 2, z: 4 });
    expect((value as Record<string, unknown>).d).toEqual({ w: 0, y: 3, z: 4 });
    // Quoted, it is a key like any other.
    expect(readSource('a: {"<<": 1}\n', 'f.yaml').value).toEqual({ a: { '<<': 1 } });
    expect(failure(() => readSource('a:\n  <<: 3\n', 'f.yaml'))).toMatch(/^ComposeFileError: f.yaml:2: a.<<: a merge key needs a mapping/);
  });

  it('merges << in a service (the x- extension fields idiom)', () => {
    const dir = tree({
      'compose.yaml': 'x-common: &common\n  image: busybox\n  environment: {A: "1"}\nservices:\n  web:\n    <<: *common\n    command: [sh]\n',
    });
    const { project } = load(dir);
    expect(project.services.web.image).toBe('busybox');
    expect(project.services.web.environment).toEqual({ A: '1' });
  });

  it('refuses duplicate keys with their lines', () => {
    expect(failure(() => readSource('a: 1\nb: 2\na: 3\n', 'f.yaml'))).toBe(
      'ComposeFileError: f.yaml:3: a: the key "a" is given twice in this mapping (first on line 1)',
    );
    expect(failure(() => readSource('s:\n  web:\n    image: x\n    image: y\n', 'f.yaml'))).toMatch(
      /^ComposeFileError: f.yaml:4: s.web.image: the key "image" is given twice/,
    );
  });

  it('checks keys in linear time (a flow mapping of 100000 keys)', () => {
    const text = `x: {${Array.from({ length: 100_000 }, (_, i) => `a${i}: 1`).join(', ')}}\n`;
    const t0 = Date.now();
    expect(Object.keys((readSource(text, 'f.yaml').value as Record<string, object>).x)).toHaveLength(100_000);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('keeps a key __proto__ as a key', () => {
    const { value } = readSource('a:\n  __proto__: {polluted: 1}\n', 'f.yaml');
    const a = (value as Record<string, Record<string, unknown>>).a;
    expect(Object.keys(a)).toEqual(['__proto__']);
    expect((a as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('files that are too large, devices, FIFOs, directories', () => {
  it('refuses a compose file over 4 MiB', () => {
    const dir = tree({ 'compose.yaml': `${svc()}# ${'x'.repeat(4 * 1024 * 1024)}\n` });
    expect(failure(() => load(dir))).toMatch(/compose file .*compose.yaml is larger than 4 MiB, the limit for it/);
  });

  it('refuses /dev/zero, a FIFO and a directory as a compose file without reading them', () => {
    const dir = tree({});
    expect(failure(() => load(dir, { files: ['/dev/zero'] }))).toMatch(/compose file \/dev\/zero is not a regular file \(a FIFO, socket or device\)/);
    fifo(join(dir, 'pipe.yaml'));
    expect(failure(() => load(dir, { files: ['pipe.yaml'] }))).toMatch(/pipe.yaml is not a regular file/);
    mkdirSync(join(dir, 'd.yaml'));
    expect(failure(() => load(dir, { files: ['d.yaml'] }))).toMatch(/d.yaml is not a regular file \(a directory\)/);
  });

  it('refuses /dev/zero, a FIFO or a file over 1 MiB as an env_file, .env or --env-file', () => {
    const dir = tree({ 'compose.yaml': svc('    env_file: [./e]\n'), big: `A=${'x'.repeat(1024 * 1024)}\n` });
    symlinkSync('/dev/zero', join(dir, 'e'));
    expect(failure(() => load(dir))).toMatch(/env_file .*\/e is not a regular file/);
    expect(failure(() => load(dir, { envFiles: [fifo(join(dir, 'p'))] }))).toMatch(/env file .*\/p is not a regular file/);
    expect(failure(() => load(dir, { envFiles: ['big'] }))).toMatch(/env file .*big is larger than 1 MiB/);
    const dot = tree({ 'compose.yaml': svc() });
    symlinkSync('/dev/zero', join(dot, '.env'));
    expect(failure(() => load(dot))).toMatch(/env file .*\.env is not a regular file/);
  });

  it('refuses /dev/zero or a FIFO as an include', () => {
    const dir = tree({ 'compose.yaml': `include: [./inc.yaml]\n${svc()}` });
    symlinkSync('/dev/zero', join(dir, 'inc.yaml'));
    expect(failure(() => load(dir))).toMatch(/inc.yaml is not a regular file/);
  });

  it('refuses a secret or config source that is /dev/zero, a FIFO or a link to one', () => {
    const dir = tree({
      'compose.yaml': svc('    secrets: [s]\n    configs: [c]\nsecrets:\n  s:\n    file: ./s\nconfigs:\n  c:\n    file: ./c\n'),
      c: 'ok',
    });
    symlinkSync('/dev/zero', join(dir, 's'));
    expect(failure(() => createOptions(load(dir).project, 'web', 'h'))).toMatch(/services.web.secrets.s: .*\/s is not a regular file \(a FIFO/);
    const other = tree({
      'compose.yaml': svc('    secrets: [s]\nsecrets:\n  s:\n    file: ./link\n'),
    });
    fifo(join(other, 'p'));
    symlinkSync(join(other, 'p'), join(other, 'link'));
    expect(failure(() => createOptions(load(other).project, 'web', 'h'))).toMatch(/services.web.secrets.s: .*link is not a regular file/);
  });
});

describe('interpolation', () => {
  it('refuses a variable expanded into more than 16 MiB', () => {
    const big = 'x'.repeat(100_000);
    expect(failure(() => interpolate('${A}'.repeat(200), { A: big }))).toMatch(/^InterpolationError: interpolation makes more than 16 MiB/);
    const dir = tree({ 'compose.yaml': svc(`    environment:\n${Array.from({ length: 200 }, (_, i) => `      V${i}: $A\n`).join('')}`) });
    expect(failure(() => load(dir, { env: { A: big } }))).toMatch(
      /^ComposeFileError: .*compose.yaml:\d+: services.web.environment.V\d+: interpolation makes more than 16 MiB/,
    );
  });

  it('counts what interpolation makes over all the files of a project (includes read again and again)', () => {
    const files: Record<string, string> = { 'compose.yaml': `include: [f0.yaml, f0.yaml]\n${svc()}` };
    const uses = `services:\n  w:\n    image: x\n    environment:\n${Array.from({ length: 10 }, (_, i) => `      V${i}: $A\n`).join('')}`;
    for (let i = 0; i < 7; i++) files[`f${i}.yaml`] = `include: [f${i + 1}.yaml, f${i + 1}.yaml]\n${uses}`;
    files['f7.yaml'] = uses;
    // 255 reads of 10 × 100 kB: each file under 16 MiB, the project over it.
    expect(failure(() => load(tree(files), { env: { A: 'x'.repeat(100_000) } }))).toMatch(/interpolation makes more than 16 MiB/);
  });

  it('refuses a .env whose lines double each other (an expansion bomb)', () => {
    const lines = ['A0=xxxxxxxxxxxxxxxx'];
    for (let i = 1; i < 40; i++) lines.push(`A${i}=\${A${i - 1}}\${A${i - 1}}`);
    const t0 = Date.now();
    expect(failure(() => parseEnvFile(lines.join('\n'), '.env'))).toMatch(/^InterpolationError: .env:\d+: interpolation makes more than 16 MiB/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('refuses defaults nested too deeply with a message, not a stack overflow', () => {
    const text = `${'${A:-'.repeat(20_000)}x${'}'.repeat(20_000)}`;
    expect(failure(() => interpolate(text, {}))).toMatch(/^InterpolationError: invalid interpolation format: defaults nest more than 32 levels deep/);
  });

  it('says ${VAR:?msg} with the file, line and path', () => {
    const dir = tree({ 'compose.yaml': svc('    environment:\n      DB: ${DB_URL:?set DB_URL to the database}\n') });
    expect(failure(() => load(dir))).toMatch(
      /^ComposeFileError: .*compose.yaml:5: services.web.environment.DB: required variable DB_URL is missing a value: set DB_URL to the database$/,
    );
  });

  it('reads a large .env in linear time (many variables; a quote never closed)', () => {
    const many = Array.from({ length: 60_000 }, (_, i) => `V${i}=v`).join('\n');
    let t0 = Date.now();
    expect(Object.keys(parseEnvFile(many, '.env'))).toHaveLength(60_000);
    expect(Date.now() - t0).toBeLessThan(3000);
    t0 = Date.now();
    expect(failure(() => parseEnvFile(`A="${'\nx'.repeat(300_000)}`, '.env'))).toMatch(/^InterpolationError: .env:300001: the value of A has no closing "/);
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

describe('include and extends', () => {
  it('refuses a file that includes itself, directly or through a link to its directory', () => {
    const dir = tree({ 'compose.yaml': `include: [./compose.yaml]\n${svc()}` });
    expect(failure(() => load(dir))).toMatch(/compose.yaml: includes or extends itself/);
    const linked = tree({ 'compose.yaml': `include: [./sub/compose.yaml]\n${svc()}` });
    symlinkSync('.', join(linked, 'sub'));
    expect(failure(() => load(linked))).toMatch(/^ComposeFileError: .*\/sub\/compose.yaml: includes or extends itself/);
  });

  it('refuses extends cycles across files', () => {
    const dir = tree({
      'compose.yaml': 'services:\n  a:\n    extends: {file: b.yaml, service: b}\n',
      'b.yaml': 'services:\n  b:\n    image: x\n    extends: {file: compose.yaml, service: a}\n',
    });
    expect(failure(() => load(dir))).toMatch(/compose.yaml: includes or extends itself/);
  });

  it('refuses includes that fan out exponentially', () => {
    const files: Record<string, string> = { 'compose.yaml': `include: [f0.yaml, f0.yaml]\n${svc()}` };
    for (let i = 0; i < 20; i++) files[`f${i}.yaml`] = `include: [f${i + 1}.yaml, f${i + 1}.yaml]\nservices: {}\n`;
    files['f20.yaml'] = 'services: {}\n';
    const t0 = Date.now();
    expect(failure(() => load(tree(files)))).toMatch(/the project reads more than 1000 compose files/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe('names', () => {
  it('refuses service, network and volume keys Compose refuses (a/b, spaces)', () => {
    expect(failure(() => load(tree({ 'compose.yaml': 'services:\n  a/b:\n    image: x\n' })))).toMatch(
      /^ComposeFileError: .*compose.yaml:2: services.a\/b is not a valid name: use letters, digits/,
    );
    expect(failure(() => load(tree({ 'compose.yaml': `${svc()}volumes:\n  "../v": {}\n` })))).toMatch(/volumes.\.\.\/v is not a valid name/);
  });

  it('refuses network and volume names that are not valid', () => {
    expect(failure(() => load(tree({ 'compose.yaml': `${svc()}networks:\n  n:\n    name: ../../n\n` })))).toMatch(
      /networks.n: "..\/..\/n" is not a valid network name/,
    );
    expect(failure(() => load(tree({ 'compose.yaml': `${svc()}volumes:\n  v:\n    name: a/b\n` })))).toMatch(/volumes.v: "a\/b" is not a valid volume name/);
  });

  it('refuses a project name that is not valid (-p ../x, upper case)', () => {
    const dir = tree({ 'compose.yaml': svc() });
    expect(failure(() => load(dir, { projectName: '../x' }))).toMatch(/-p "..\/x" is not a valid project name/);
    expect(failure(() => load(dir, { projectName: 'MyApp' }))).toMatch(/-p "MyApp" is not a valid project name/);
  });

  it('refuses container names too long before anything is made', () => {
    expect(failure(() => load(tree({ 'compose.yaml': `services:\n  ${'s'.repeat(250)}:\n    image: x\n` })))).toMatch(
      /services.s+: its container would be named "proj-s+…", not a valid container name/,
    );
  });

  it('refuses a container_name given twice, or taken from another service', () => {
    const twice = 'services:\n  a:\n    image: x\n    container_name: same\n  b:\n    image: x\n    container_name: same\n';
    expect(failure(() => load(tree({ 'compose.yaml': twice })))).toMatch(/services.b.container_name: "same" is already the container name of service a/);
    const taken = 'services:\n  a:\n    image: x\n    scale: 2\n  b:\n    image: x\n    container_name: proj-a-2\n';
    expect(failure(() => load(tree({ 'compose.yaml': taken })))).toMatch(/services.b.container_name: "proj-a-2" is the name of service a's container/);
    const free = 'services:\n  a:\n    image: x\n  b:\n    image: x\n    container_name: proj-a-2\n';
    expect(load(tree({ 'compose.yaml': free })).project.services.b.container_name).toBe('proj-a-2');
  });
});

describe('secrets and configs', () => {
  it('refuses a uid or gid of 4294967295 ((uid_t)-1: chown would leave the owner as it is)', () => {
    const dir = tree({ 'compose.yaml': svc('    secrets:\n      - source: s\n        uid: "4294967295"\nsecrets:\n  s:\n    file: ./s\n'), s: 'x' });
    expect(failure(() => load(dir))).toMatch(/compose.yaml:6: services.web.secrets\[0\].uid must be an id below 4294967295/);
  });

  it('refuses a target with a NUL byte', () => {
    const dir = tree({ 'compose.yaml': svc('    configs:\n      - source: c\n        target: "/etc/a\\0b"\nconfigs:\n  c:\n    content: x\n') });
    expect(failure(() => createOptions(load(dir).project, 'web', 'h'))).toBe(
      'CliError: services.web.configs.c: the target "/etc/a\\u0000b" holds a NUL byte: name a path',
    );
  });

  it('keeps a target with .. inside the container (resolved from / or /run/secrets)', () => {
    const dir = tree({
      'compose.yaml': svc('    secrets:\n      - source: s\n        target: ../../../../etc/x\nsecrets:\n  s:\n    file: ./s\n'),
      s: 'x',
    });
    expect(createOptions(load(dir).project, 'web', 'h').fileSecrets?.map((f) => f.target)).toEqual(['/etc/x']);
  });
});

describe('names that are Object.prototype members', () => {
  it('are not services, volumes or networks the project has', () => {
    const dep = tree({ 'compose.yaml': svc('    depends_on: [toString]\n') });
    expect(failure(() => load(dep))).toMatch(/services.web.depends_on: no service "toString" in the project/);
    const vol = tree({ 'compose.yaml': svc('    volumes: ["constructor:/data"]\n') });
    expect(failure(() => load(vol))).toMatch(/services.web.volumes: no volume "constructor" in the top-level volumes/);
    const proto = tree({ 'compose.yaml': 'services:\n  __proto__:\n    image: x\n' });
    expect(failure(() => load(proto))).toMatch(/services.__proto__ is not a valid name/);
    const { project } = load(tree({ 'compose.yaml': svc() }));
    expect(failure(() => enableServices(project, ['toString']))).toBe('ComposeFileError: no such service: toString');
    expect(failure(() => selectServices(project, ['constructor']))).toMatch(/no such service: constructor/);
  });
});
