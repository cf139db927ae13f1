import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject, normalizeProjectName } from '../../../src/compose/load.js';

const project = (files: Record<string, string>, dirName = 'My App.dir'): string => {
  const dir = join(mkdtempSync(join(tmpdir(), 'compose-')), dirName);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
};

describe('compose files', () => {
  it('finds compose.yaml and its override, names the project from the directory', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: busybox\n    ports: ["8080:80"]\n    environment: [A=1, B=2]\n    command: sh -c "echo hi"\n',
      'compose.override.yaml': 'services:\n  web:\n    ports: ["9090:90/udp"]\n    environment: {B: "3"}\n    command: [sh]\n',
    });
    const { project: p, files } = loadProject({ cwd: join(dir), env: {} });
    expect(files.map((f) => f.split('/').pop())).toEqual(['compose.yaml', 'compose.override.yaml']);
    expect(p.name).toBe('myappdir');
    expect(p.services.web.environment).toEqual({ A: '1', B: '3' });
    expect(p.services.web.command).toEqual(['sh']);
    expect(p.services.web.ports).toEqual([
      { mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' },
      { mode: 'ingress', target: 90, published: '9090', protocol: 'udp' },
    ]);
    expect(p.networks).toEqual({ default: { name: 'myappdir_default' } });
  });

  it('looks in parent directories', () => {
    const dir = project({ 'docker-compose.yml': 'services:\n  a:\n    image: x\n' });
    mkdirSync(join(dir, 'sub'));
    expect(loadProject({ cwd: join(dir, 'sub'), env: {} }).files[0]).toBe(join(dir, 'docker-compose.yml'));
  });

  it('takes the name from -p, then COMPOSE_PROJECT_NAME, then name:, then the directory', () => {
    const dir = project({ 'compose.yaml': 'name: fromfile\nservices:\n  a:\n    image: x\n' });
    expect(loadProject({ cwd: dir, env: {} }).project.name).toBe('fromfile');
    expect(loadProject({ cwd: dir, env: { COMPOSE_PROJECT_NAME: 'fromenv' } }).project.name).toBe('fromenv');
    expect(loadProject({ cwd: dir, env: { COMPOSE_PROJECT_NAME: 'fromenv' }, projectName: 'flag' }).project.name).toBe('flag');
    expect(() => loadProject({ cwd: dir, env: {}, projectName: 'Bad Name' })).toThrow('"Bad Name" is not a valid project name');
    expect(normalizeProjectName('_Foo.Bar-1')).toBe('foobar-1');
  });

  it('interpolates from .env under the environment, and --env-file', () => {
    const dir = project({
      'compose.yaml': 'services:\n  a:\n    image: "${IMG}:${TAG:-latest}"\n    environment:\n      - X=$${literal}\n      - FROMSHELL\n',
      '.env': 'IMG=fromdotenv\nTAG=1\n',
      'other.env': 'IMG=other\n',
    });
    expect(loadProject({ cwd: dir, env: {} }).project.services.a.image).toBe('fromdotenv:1');
    expect(loadProject({ cwd: dir, env: { IMG: 'shell', FROMSHELL: 'v' } }).project.services.a).toMatchObject({
      image: 'shell:1',
      environment: { X: '${literal}', FROMSHELL: 'v' },
    });
    expect(loadProject({ cwd: dir, env: {}, envFiles: [join(dir, 'other.env')] }).project.services.a.image).toBe('other:latest');
  });

  it('casts interpolated booleans and numbers where the specification wants them', () => {
    const dir = project({ 'compose.yaml': 'services:\n  a:\n    image: x\n    init: ${INIT}\n    healthcheck:\n      test: "true"\n      retries: ${N}\n' });
    expect(loadProject({ cwd: dir, env: { INIT: 'true', N: '5' } }).project.services.a).toMatchObject({ init: true, healthcheck: { retries: 5 } });
    expect(() => loadProject({ cwd: dir, env: { INIT: 'maybe', N: '5' } })).toThrow('services.a.init must be true or false, not a string');
  });

  it('merges -f files in order: volumes unique by target, depends_on list to map', () => {
    const dir = project({
      'a.yml':
        'services:\n  db:\n    image: x\n    volumes: ["data:/data", "./conf:/conf:ro"]\n  web:\n    image: y\n    depends_on: [db]\nvolumes:\n  data: {}\n',
      'b.yml': 'services:\n  db:\n    volumes: ["other:/data"]\n  web:\n    depends_on:\n      db:\n        condition: service_healthy\nvolumes:\n  other:\n',
    });
    const { project: p } = loadProject({ cwd: dir, env: {}, files: ['a.yml', 'b.yml'], projectName: 'p' });
    expect(p.services.db.volumes).toEqual([
      { type: 'volume', source: 'other', target: '/data', volume: {} },
      { type: 'bind', source: join(dir, 'conf'), target: '/conf', read_only: true, bind: { create_host_path: true } },
    ]);
    expect(p.services.web.depends_on).toEqual({ db: { condition: 'service_healthy', required: true } });
    expect(p.volumes).toEqual({ data: { name: 'p_data' }, other: { name: 'p_other' } });
  });
});

describe('compose validation', () => {
  const error = (text: string): string => {
    const dir = project({ 'compose.yaml': text });
    try {
      loadProject({ cwd: dir, env: {} });
    } catch (e) {
      return (e as Error).message.replace(`${dir}/`, '');
    }
    return 'no error';
  };

  it('names the file, line and path of a type error', () => {
    expect(error('services:\n  web:\n    image: x\n    ports:\n      - "80:80"\n      - {published: 8080}\n')).toBe(
      'compose.yaml:6: services.web.ports[1] needs "target"',
    );
    expect(error('services:\n  web:\n    image: x\n    init: "yes"\n')).toBe('compose.yaml:4: services.web.init must be true or false, not a string');
    expect(error('services:\n  web:\n    image: x\n    ports: ["80:eighty"]\n')).toMatch(/^compose.yaml:4: services.web.ports\[0\] "80:eighty" is not a port/);
    expect(error('services:\n  web:\n    image: x\n    stop_grace_period: soon\n')).toMatch(
      /^compose.yaml:4: services.web.stop_grace_period must be a duration/,
    );
  });

  it('refuses unknown keys and names unsupported ones', () => {
    expect(error('services:\n  web:\n    image: x\n    imagee: y\n')).toBe(
      'compose.yaml:4: services.web.imagee is not a key the Compose Specification knows here (did you mean "image"?)',
    );
    expect(error('services:\n  web:\n    image: x\n    privileged: true\n')).toMatch(
      /^compose.yaml:4: services.web.privileged is not supported yet by skiff compose/,
    );
    expect(error('services:\n  web:\n    image: x\nmodels: {}\n')).toMatch(/^compose.yaml:4: models is not supported yet/);
    expect(error('services:\n  web:\n    image: x\n    x-custom: 1\nx-top: {}\n')).toBe('no error');
  });

  it('reports interpolation errors with path and line', () => {
    expect(error('services:\n  web:\n    image: ${IMG:?give an image}\n')).toBe(
      'compose.yaml:3: services.web.image: required variable IMG is missing a value: give an image',
    );
    expect(error('services:\n  web:\n    image: x\n    command: echo $\n')).toMatch(/^compose.yaml:4: services.web.command: invalid interpolation format/);
  });

  it('reports YAML syntax errors with a line', () => {
    expect(error('services:\n  web:\n    image: [x\n')).toMatch(/^compose.yaml:\d+: not valid YAML/);
  });
});
