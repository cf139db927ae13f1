// The Compose keys beyond the basics: build, deploy, profiles, secrets, configs, extra_hosts, dns,
// security_opt, container_name, pull_policy, scale, networks' ipam, extends and include — read in
// their short and long forms, refused with FILE:LINE: PATH when wrong, and printed as docker compose
// config prints them (the examples are the Compose documentation's).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configDocument } from '../../../src/cli/commands/compose/config.js';
import { type LoadOptions, loadProject } from '../../../src/compose/load.js';
import { enableServices } from '../../../src/compose/model.js';
import { createOptions, imageName, networkOptions, unappliedKeys } from '../../../src/engine/compose-create.js';
import { parseSecretFlags } from '../../../src/engine/container-secrets.js';

const tree = (files: Record<string, string>): string => {
  const dir = join(mkdtempSync(join(tmpdir(), 'compose-model-')), 'proj');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
};

const load = (files: Record<string, string>, options: LoadOptions = {}) => {
  const dir = tree(files);
  return { dir, ...loadProject({ cwd: dir, env: {}, ...options }) };
};

const config = (files: Record<string, string>, options: LoadOptions = {}): string => {
  const loaded = load(files, options);
  return stringify(configDocument(loaded), { nullStr: 'null', lineWidth: 0 }).replaceAll(loaded.dir, '/P');
};

const error = (text: string, more: Record<string, string> = {}, profiles: string[] = []): string => {
  const dir = tree({ 'compose.yaml': text, ...more });
  try {
    loadProject({ cwd: dir, env: {}, profiles });
  } catch (e) {
    return (e as Error).message.replaceAll(`${dir}/`, '');
  }
  return 'no error';
};

const svc = (body: string) => `services:\n  web:\n    image: x\n${body}`;

describe('build', () => {
  it('reads the short form as the context and the long form, relative to the project directory', () => {
    const { project, dir } = load({
      'compose.yaml':
        'services:\n  a:\n    build: ./dir\n  b:\n    image: b:1\n    build:\n      context: ctx\n      dockerfile: Containerfile\n      args: [X=1, Y]\n      target: prod\n      labels: {l: v}\n      network: host\n      no_cache: true\n      pull: true\n',
    });
    expect(project.services.a.build).toEqual({ context: join(dir, 'dir'), dockerfile: 'Dockerfile' });
    expect(project.services.b.build).toEqual({
      context: join(dir, 'ctx'),
      dockerfile: 'Containerfile',
      args: { X: '1', Y: null },
      labels: { l: 'v' },
      no_cache: true,
      pull: true,
      network: 'host',
      target: 'prod',
    });
    // A service that is only built is named PROJECT-SERVICE (docker compose v2) and never pulled.
    expect(imageName(project, 'a')).toBe('proj-a');
    expect(createOptions(project, 'a', 'h').image).toBe('proj-a');
    expect(createOptions(project, 'a', 'h').pull).toBe('never');
    expect(imageName(project, 'b')).toBe('b:1');
  });

  it('refuses bad build keys and a service with neither image nor build', () => {
    expect(error('services:\n  a:\n    build:\n      context: .\n      dockerfil: x\n')).toBe(
      'compose.yaml:5: services.a.build.dockerfil is not a key the Compose Specification knows here (did you mean "dockerfile"?)',
    );
    expect(error('services:\n  a:\n    build:\n      no_cache: "yes"\n')).toBe('compose.yaml:4: services.a.build.no_cache must be true or false, not a string');
    expect(error('services:\n  a:\n    command: x\n')).toBe('compose.yaml:2: services.a: needs "image" or "build"');
  });
});

describe('deploy', () => {
  // The Compose documentation's deploy.resources example.
  const doc = svc(
    '    deploy:\n      resources:\n        limits:\n          cpus: "0.50"\n          memory: 50M\n          pids: 1\n        reservations:\n          cpus: "0.25"\n          memory: 20M\n',
  );

  it('prints limits as docker compose config does: cpus a number, memory in bytes', () => {
    expect(config({ 'compose.yaml': doc })).toBe(
      [
        'name: proj',
        'services:',
        '  web:',
        '    deploy:',
        '      resources:',
        '        limits:',
        '          cpus: 0.5',
        '          memory: "52428800"',
        '          pids: 1',
        '        reservations:',
        '          cpus: 0.25',
        '          memory: "20971520"',
        '    image: x',
        '    networks:',
        '      default: null',
        'networks:',
        '  default:',
        '    name: proj_default',
        '',
      ].join('\n'),
    );
  });

  it('maps limits to --memory, --cpus, --pids-limit, --memory-reservation and warns of the CPU reservation', () => {
    const { project } = load({ 'compose.yaml': doc });
    expect(createOptions(project, 'web', 'h')).toMatchObject({ memory: '52428800', cpus: '0.5', pidsLimit: '1', memoryReservation: '20971520' });
    expect(unappliedKeys(project)).toEqual(['services.web.deploy.resources.reservations.cpus: skiff reserves no CPU time (limits.cpus caps it): ignored']);
  });

  it('maps restart_policy when restart is not given, and warns of what it cannot do', () => {
    const { project } = load({
      'compose.yaml':
        'services:\n  a:\n    image: x\n    deploy:\n      restart_policy: {condition: on-failure, max_attempts: 3, delay: 5s}\n  b:\n    image: x\n    restart: "no"\n    deploy:\n      restart_policy: {condition: any}\n',
    });
    expect(createOptions(project, 'a', 'h').restart).toBe('on-failure:3');
    expect(createOptions(project, 'b', 'h').restart).toBe('no');
    expect(unappliedKeys(project)).toEqual([
      'services.a.deploy.restart_policy.delay: skiff restarts at once, without a delay: ignored',
      'services.b.deploy.restart_policy: restart is given and wins: ignored',
    ]);
  });

  it('refuses bad sizes, swarm-only keys and scale differing from replicas', () => {
    expect(error(svc('    deploy:\n      resources:\n        limits:\n          memory: lots\n'))).toBe(
      'compose.yaml:7: services.web.deploy.resources.limits.memory must be a size such as 512m or 1g, not "lots"',
    );
    expect(error(svc('    deploy:\n      resources:\n        limits:\n          cpus: half\n'))).toBe(
      'compose.yaml:7: services.web.deploy.resources.limits.cpus must be a number of CPUs such as 0.5, not "half"',
    );
    expect(error(svc('    deploy:\n      placement:\n        constraints: []\n'))).toMatch(
      /^compose.yaml:5: services.web.deploy.placement is not supported yet/,
    );
    expect(error(svc('    deploy:\n      mode: global\n'))).toBe('compose.yaml:5: services.web.deploy.mode must be one of replicated, not "global"');
    expect(error(svc('    scale: 2\n    deploy:\n      replicas: 3\n'))).toBe(
      'compose.yaml:4: services.web.scale: scale (2) and deploy.replicas (3) differ: give one of them',
    );
  });
});

describe('extra_hosts, dns, security_opt, container_name, pull_policy, networks', () => {
  it('reads extra_hosts lists (host:ip, host=ip) and maps as compose-go does, printed host=ip sorted', () => {
    // The Compose documentation's examples.
    const list = load({
      'compose.yaml': svc('    extra_hosts:\n      - "somehost=162.242.195.82"\n      - "otherhost:50.31.209.229"\n      - "myhostv6=[::1]"\n'),
    });
    expect(list.project.services.web.extra_hosts).toEqual(['myhostv6=::1', 'otherhost=50.31.209.229', 'somehost=162.242.195.82']);
    const map = load({ 'compose.yaml': svc('    extra_hosts:\n      somehost: "162.242.195.82"\n      otherhost: ["50.31.209.229", "50.31.209.230"]\n') });
    expect(map.project.services.web.extra_hosts).toEqual(['otherhost=50.31.209.229', 'otherhost=50.31.209.230', 'somehost=162.242.195.82']);
    expect(createOptions(list.project, 'web', 'h').addHosts).toEqual(['myhostv6:::1', 'otherhost:50.31.209.229', 'somehost:162.242.195.82']);
    expect(error(svc('    extra_hosts: ["nohost"]\n'))).toBe('compose.yaml:4: services.web.extra_hosts[0] "nohost" is not HOST:IP or HOST=IP');
  });

  it('maps dns (a string or a list), security_opt, container_name, pull_policy and ipv4_address', () => {
    const { project } = load({
      'compose.yaml':
        'services:\n  web:\n    image: x\n    dns: 8.8.8.8\n    security_opt: [no-new-privileges]\n    container_name: my-web\n    pull_policy: always\n    networks:\n      front:\n        ipv4_address: 10.5.0.9\n        aliases: [w]\n      back:\n        ipv4_address: 10.6.0.9\nnetworks:\n  front:\n    ipam:\n      config:\n        - subnet: 10.5.0.0/24\n  back: {}\n',
    });
    const o = createOptions(project, 'web', 'h');
    expect(o).toMatchObject({ dns: ['8.8.8.8'], securityOpt: ['no-new-privileges'], name: 'my-web', pull: 'always', ip: '10.6.0.9' });
    expect(project.networks.front).toEqual({ name: 'proj_front', ipam: { config: [{ subnet: '10.5.0.0/24' }] } });
    expect(networkOptions(project, 'front')).toEqual({
      labels: ['com.docker.compose.project=proj', 'com.docker.compose.network=front'],
      subnet: '10.5.0.0/24',
    });
    expect(error('services: {}\nnetworks:\n  n:\n    ipam:\n      config:\n        - subnet: 10.0.0.0/24\n        - subnet: 10.1.0.0/24\n')).toBe(
      "compose.yaml:7: networks.n.ipam.config[1] is a second pool: skiff's networks have one IPv4 subnet",
    );
    // The first network (Go prints maps sorted: back) takes the address; the other's is named in a warning.
    expect(unappliedKeys(project)).toEqual(['services.web.networks.front.ipv4_address: skiff gives a fixed address on the first network only: ignored']);
    expect(() => createOptions(project, 'web', 'h', 2)).toThrow('services.web: container_name "my-web" names one container: it cannot have 2 replicas');
    expect(error(svc('    container_name: c\n    scale: 2\n'))).toBe(
      'compose.yaml:4: services.web.container_name: "c" names one container: it cannot have 2 replicas',
    );
    expect(error(svc('    pull_policy: build\n'))).toBe('compose.yaml:4: services.web.pull_policy: build needs "build"');
    expect(error(svc('    pull_policy: sometimes\n'))).toMatch(/^compose.yaml:4: services.web.pull_policy must be always, never, missing/);
    expect(error(svc('    container_name: "a b"\n'))).toMatch(/^compose.yaml:4: services.web.container_name must be a container name/);
    expect(error(svc('    dns: [1]\n'))).toBe('compose.yaml:4: services.web.dns[0] must be a string, not a number');
    expect(
      error('services:\n  web:\n    image: x\nnetworks:\n  n:\n    ipam:\n      config:\n        - subnet: 10.0.0.0/24\n          aux_addresses: {}\n'),
    ).toMatch(/^compose.yaml:9: networks.n.ipam.config\[0\].aux_addresses is not supported yet/);
  });
});

describe('secrets and configs', () => {
  const files = {
    'compose.yaml':
      'services:\n  web:\n    image: x\n    secrets:\n      - server-certificate\n      - source: token\n        target: tok\n        uid: "103"\n        gid: "103"\n        mode: 0440\n    configs:\n      - my_config\n      - source: other\n        target: /etc/other.conf\nsecrets:\n  server-certificate:\n    file: ./server.cert\n  token:\n    environment: OAUTH_TOKEN\nconfigs:\n  my_config:\n    content: hello\n  other:\n    file: ./conf/other.conf\n',
    'server.cert': 'CERT',
    'conf/other.conf': 'OTHER',
  };

  it('prints them as docker compose config does: names PROJECT_KEY, file paths absolute, modes octal, no secret content', () => {
    expect(config(files, { env: { OAUTH_TOKEN: 'abc' } })).toBe(
      [
        'name: proj',
        'services:',
        '  web:',
        '    configs:',
        '      - source: my_config',
        '      - source: other',
        '        target: /etc/other.conf',
        '    image: x',
        '    networks:',
        '      default: null',
        '    secrets:',
        '      - source: server-certificate',
        '        target: /run/secrets/server-certificate',
        '      - source: token',
        '        target: tok',
        '        uid: "103"',
        '        gid: "103"',
        '        mode: "0440"',
        'networks:',
        '  default:',
        '    name: proj_default',
        'secrets:',
        '  server-certificate:',
        '    name: proj_server-certificate',
        '    file: /P/server.cert',
        '  token:',
        '    name: proj_token',
        '    environment: OAUTH_TOKEN',
        'configs:',
        '  my_config:',
        '    name: proj_my_config',
        '    content: hello',
        '  other:',
        '    name: proj_other',
        '    file: /P/conf/other.conf',
        '',
      ].join('\n'),
    );
  });

  it('maps each to a file copied in with its target, owner and mode (0444 by default)', () => {
    const { project } = load(files, { env: { OAUTH_TOKEN: 'abc' } });
    const o = createOptions(project, 'web', 'h');
    expect(o.fileSecrets?.map((f) => ({ ...f, data: f.data.toString() }))).toEqual([
      { name: 'proj_server-certificate', target: '/run/secrets/server-certificate', uid: 0, gid: 0, mode: 0o444, data: 'CERT' },
      { name: 'proj_token', target: '/run/secrets/tok', uid: 103, gid: 103, mode: 0o440, data: 'abc' },
      { name: 'proj_my_config', target: '/my_config', uid: 0, gid: 0, mode: 0o444, data: 'hello' },
      { name: 'proj_other', target: '/etc/other.conf', uid: 0, gid: 0, mode: 0o444, data: 'OTHER' },
    ]);
    const { project: unset } = load(files);
    expect(() => createOptions(unset, 'web', 'h')).toThrow('services.web.secrets.token: the variable OAUTH_TOKEN it comes from is not set');
  });

  it('refuses a target that would cover /run/secrets or /, a missing or non-regular source, a source too large', () => {
    const file = (target: string) => ({ name: 's', target, uid: 0, gid: 0, mode: 0o444, data: Buffer.from('x') });
    expect(() => parseSecretFlags([], [file('/')])).toThrow('s: the target / would cover /: name a file');
    expect(() => parseSecretFlags([], [file('/run/secrets/../')])).toThrow('s: the target /run would cover /run/secrets: name a file');
    expect(() => parseSecretFlags([], [file('/a'), file('/a')])).toThrow('two --secret flags have the target /a');
    expect(parseSecretFlags(['x'], [file('/etc/x.conf')]).map((s) => s.target)).toEqual(['/run/secrets/x', '/etc/x.conf']);
    const at = (source: string, extra: Record<string, string> = {}) => {
      const { project } = load({ 'compose.yaml': svc(`    secrets: [s]\nsecrets:\n  s:\n    file: ${source}\n`), ...extra });
      return () => createOptions(project, 'web', 'h');
    };
    expect(at('./gone')).toThrow(/services.web.secrets.s: cannot read .*gone: .*no such file/i);
    expect(at('./dir', { 'dir/f': '' })).toThrow(/services.web.secrets.s: .*dir is not a regular file/);
    expect(at('./big', { big: 'x'.repeat(600_000) })).toThrow(/is larger than .*refusing to read it/);
  });

  it("passes an external secret as --secret: a secret of skiff's store", () => {
    const { project } = load({ 'compose.yaml': svc('    secrets:\n      - source: db\n        mode: 0400\nsecrets:\n  db:\n    external: true\n') });
    expect(createOptions(project, 'web', 'h').secret).toEqual(['db,type=mount,target=/run/secrets/db,uid=0,gid=0,mode=400']);
  });

  it('refuses an undeclared one, two sources, a bad mode or id', () => {
    expect(error(svc('    secrets: [nope]\n'))).toBe('compose.yaml:4: services.web.secrets: no secret "nope" in the top-level secrets: declare it there');
    expect(error(svc('secrets:\n  s:\n    file: a\n    environment: B\n'))).toBe(
      'compose.yaml:5: secrets.s needs exactly one of file, environment, external (it has file, environment)',
    );
    expect(error(svc('secrets:\n  s:\n    content: a\n'))).toMatch(/^compose.yaml:6: secrets.s.content is not a key the Compose Specification knows here/);
    expect(error(svc('    secrets:\n      - source: s\n        mode: "0999"\nsecrets:\n  s:\n    file: a\n'))).toBe(
      'compose.yaml:6: services.web.secrets[0].mode must be a file mode such as 0440 (octal), not "0999"',
    );
    expect(error(svc('    configs:\n      - source: s\n        uid: root\nconfigs:\n  s:\n    file: a\n'))).toBe(
      'compose.yaml:6: services.web.configs[0].uid must be a numeric id such as 1000, not "root"',
    );
  });
});

describe('profiles', () => {
  // The Compose Specification's profiles example.
  const spec =
    'services:\n  web:\n    image: web_image\n  test_lib:\n    image: test_lib_image\n    profiles: [test]\n  coverage_lib:\n    image: coverage_lib_image\n    depends_on: [test_lib]\n    profiles: [test]\n  debug_lib:\n    image: debug_lib_image\n    depends_on: [test_lib]\n    profiles: [debug]\n';

  it('enables services without profiles, and those of --profile or COMPOSE_PROFILES', () => {
    const none = load({ 'compose.yaml': spec }).project;
    expect(Object.keys(none.services)).toEqual(['web']);
    expect(Object.keys(none.disabled ?? {})).toEqual(['coverage_lib', 'debug_lib', 'test_lib']);
    expect(Object.keys(load({ 'compose.yaml': spec }, { profiles: ['test'] }).project.services)).toEqual(['coverage_lib', 'test_lib', 'web']);
    expect(Object.keys(load({ 'compose.yaml': spec }, { env: { COMPOSE_PROFILES: 'test,other' } }).project.services)).toEqual([
      'coverage_lib',
      'test_lib',
      'web',
    ]);
    expect(Object.keys(load({ 'compose.yaml': spec }, { profiles: ['*'] }).project.services)).toHaveLength(4);
    expect(config({ 'compose.yaml': spec })).not.toMatch(/test_lib/);
  });

  it('refuses an enabled service that needs a disabled one, as the specification says', () => {
    expect(error(spec, {}, ['debug'])).toBe(
      'compose.yaml:13: services.debug_lib.depends_on: service "test_lib" is required by "debug_lib" but is disabled: enable one of its profiles (test) with --profile or COMPOSE_PROFILES',
    );
  });

  it('enables a service named on the command line with what it depends on', () => {
    const p = enableServices(load({ 'compose.yaml': spec }).project, ['debug_lib']);
    expect(Object.keys(p.services)).toEqual(['debug_lib', 'test_lib', 'web']);
    expect(Object.keys(p.disabled ?? {})).toEqual(['coverage_lib']);
    expect(() => enableServices(p, ['nope'])).toThrow('no such service: nope');
    expect(error(svc('    profiles: ["bad name"]\n'))).toMatch(/^compose.yaml:4: services.web.profiles\[0\] must be a profile name/);
  });
});

describe('extends', () => {
  it('merges a service of the same file and of another, whose relative paths stay its own (the documentation examples)', () => {
    const dir = tree({
      'main/compose.yaml':
        'services:\n  web:\n    extends:\n      file: common-services.yml\n      service: webapp\n    environment:\n      - DEBUG=1\n  important_web:\n    extends: web\n    ports: ["9000:9000"]\n  other:\n    image: example\n    extends:\n      file: ../commons/compose.yaml\n      service: base\n',
      'main/common-services.yml': 'services:\n  webapp:\n    build: .\n    ports:\n      - "8000:8000"\n    volumes:\n      - "/data"\n',
      'commons/compose.yaml': 'services:\n  base:\n    env_file: ./container.env\n',
      'commons/container.env': 'FROM_BASE=1\n',
    });
    const { project } = loadProject({ cwd: join(dir, 'main'), env: {} });
    expect(project.services.web.build?.context).toBe(join(dir, 'main'));
    expect(project.services.web.environment).toEqual({ DEBUG: '1' });
    expect(project.services.web.ports?.map((p) => p.published)).toEqual(['8000']);
    expect(project.services.web.volumes?.map((v) => v.target)).toEqual(['/data']);
    expect(project.services.important_web.ports?.map((p) => p.published)).toEqual(['8000', '9000']);
    expect(project.services.important_web.environment).toEqual({ DEBUG: '1' });
    expect(project.services.web.extends).toBeUndefined();
    expect(project.services.other.env_file).toEqual([{ path: join(dir, 'commons', 'container.env'), required: true }]);
    expect(project.services.other.environment).toEqual({ FROM_BASE: '1' });
    expect(Object.keys(project.services)).toEqual(['important_web', 'other', 'web']);
  });

  it('refuses a missing service, a missing file and a cycle, naming where', () => {
    expect(error(svc('    extends: nope\n'))).toBe('compose.yaml:4: services.web.extends: no service "nope" in this file');
    expect(error('services:\n  a:\n    image: x\n    extends: b\n  b:\n    extends: a\n')).toMatch(
      /^compose.yaml:4: services.a.extends: extends itself: a → b → a$/,
    );
    expect(error(svc('    extends:\n      file: other.yaml\n      service: base\n'))).toMatch(/other.yaml: no such file$/);
    expect(error(svc('    extends:\n      file: other.yaml\n      service: base\n'), { 'other.yaml': 'services:\n  b:\n    image: y\n' })).toMatch(
      /^compose.yaml:4: services.web.extends: no service "base" in .*other.yaml$/,
    );
    expect(error(svc('    extends:\n      servic: a\n'))).toMatch(/^compose.yaml:5: services.web.extends.servic is not a key/);
  });
});

describe('include', () => {
  it("adds the included files' services, networks and volumes, paths relative to their own directory", () => {
    const { project, dir } = load({
      'compose.yaml':
        'include:\n  - sub/compose.yaml\n  - path: [db/a.yaml, db/b.yaml]\n    env_file: db/vars.env\nservices:\n  web:\n    image: x\n    depends_on: [cache, db]\n',
      'sub/compose.yaml': 'services:\n  cache:\n    image: c\n    volumes: ["./data:/data", "v:/v"]\nvolumes:\n  v: {}\n',
      'db/a.yaml': 'services:\n  db:\n    image: ${DB_IMAGE}\n',
      'db/b.yaml': 'services:\n  db:\n    environment: [B=1]\n',
      'db/vars.env': 'DB_IMAGE=postgres\n',
    });
    expect(Object.keys(project.services)).toEqual(['cache', 'db', 'web']);
    expect(project.services.cache.volumes?.[0].source).toBe(join(dir, 'sub', 'data'));
    expect(project.volumes.v.name).toBe('proj_v');
    expect(project.services.db).toMatchObject({ image: 'postgres', environment: { B: '1' } });
  });

  it('refuses a conflict with the including file, a missing file and a cycle', () => {
    expect(error('include: [other.yaml]\nservices:\n  web:\n    image: x\n', { 'other.yaml': 'services:\n  web:\n    image: y\n' })).toBe(
      'compose.yaml:3: services.web conflicts with the one other.yaml includes: rename one of them',
    );
    expect(error('include: [other.yaml]\nservices:\n  web:\n    image: x\n', { 'other.yaml': 'services:\n  web:\n    image: x\n' })).toBe('no error');
    expect(error('include: [gone.yaml]\nservices: {}\n')).toMatch(/gone.yaml: no such file$/);
    expect(error('include: [other.yaml]\nservices: {}\n', { 'other.yaml': 'include: [compose.yaml]\nservices: {}\n' })).toMatch(/includes or extends itself/);
    expect(error('include:\n  - pth: x\nservices: {}\n')).toMatch(/^compose.yaml:2: include\[0\].pth is not a key/);
  });
});

describe('config output', () => {
  it("prints the documentation's healthcheck, hosts and profiles examples in compose-go's key order and forms", () => {
    const text = config(
      {
        'compose.yaml':
          'services:\n  web:\n    image: x\n    profiles: [frontend]\n    stop_grace_period: 90s\n    extra_hosts:\n      - "somehost:162.242.195.82"\n      - "myhostv6=::1"\n    hostname: h\n    healthcheck:\n      test: ["CMD", "curl", "-f", "http://localhost"]\n      interval: 1m30s\n      timeout: 10s\n      retries: 3\n      start_period: 40s\n      start_interval: 5s\n',
      },
      { profiles: ['frontend'] },
    );
    expect(text).toBe(
      [
        'name: proj',
        'services:',
        '  web:',
        '    profiles:',
        '      - frontend',
        '    extra_hosts:',
        '      - myhostv6=::1',
        '      - somehost=162.242.195.82',
        '    hostname: h',
        '    healthcheck:',
        '      test:',
        '        - CMD',
        '        - curl',
        '        - -f',
        '        - http://localhost',
        '      timeout: 10s',
        '      interval: 1m30s',
        '      retries: 3',
        '      start_period: 40s',
        '      start_interval: 5s',
        '    image: x',
        '    networks:',
        '      default: null',
        '    stop_grace_period: 1m30s',
        'networks:',
        '  default:',
        '    name: proj_default',
        '',
      ].join('\n'),
    );
  });

  it('leaves variables as written with interpolate: false (config --no-interpolate)', () => {
    const { project } = load({ 'compose.yaml': 'services:\n  web:\n    image: ${IMG:-busybox}\n' }, { interpolate: false });
    expect(project.services.web.image).toBe('${IMG:-busybox}');
  });
});

describe('top-level networks and volumes', () => {
  it('prints name, driver, ipam, external, internal and labels in that order, external ones by their own name', () => {
    const text = config({
      'compose.yaml':
        'services:\n  web:\n    image: x\n    networks: [front, back, outside]\n    volumes: [data:/data, old:/old]\nnetworks:\n  front:\n    labels: [a=b]\n    internal: true\n    driver: bridge\n  back:\n    ipam:\n      config:\n        - subnet: 10.7.0.0/24\n          gateway: 10.7.0.1\n  outside:\n    external: true\nvolumes:\n  data:\n    labels: {k: v}\n    driver: local\n  old:\n    external:\n      name: legacy-name\n',
    });
    expect(text.slice(text.indexOf('networks:\n  back'))).toBe(
      [
        'networks:',
        '  back:',
        '    name: proj_back',
        '    ipam:',
        '      config:',
        '        - subnet: 10.7.0.0/24',
        '          gateway: 10.7.0.1',
        '  front:',
        '    name: proj_front',
        '    driver: bridge',
        '    internal: true',
        '    labels:',
        '      a: b',
        '  outside:',
        '    name: outside',
        '    external: true',
        'volumes:',
        '  data:',
        '    name: proj_data',
        '    driver: local',
        '    labels:',
        '      k: v',
        '  old:',
        '    name: legacy-name',
        '    external: true',
        '',
      ].join('\n'),
    );
    expect(error('services: {}\nnetworks:\n  n:\n    driver: overlay\n')).toBe('compose.yaml:4: networks.n.driver must be one of bridge, not "overlay"');
    expect(error('services: {}\nvolumes:\n  v:\n    external: maybe\n')).toBe('compose.yaml:4: volumes.v.external must be true or false, not a string');
  });
});
