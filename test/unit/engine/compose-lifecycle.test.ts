// The pure parts of compose's lifecycle: which services `up SVC…` takes, how many containers each
// runs, dependency order, docker compose's log prefixes, and a service's build: as build options.
import { describe, expect, it } from 'vitest';
import type { Project } from '../../../src/compose/model.js';
import { buildOptionsOf, imageOf } from '../../../src/engine/compose-build.js';
import { LogFormatter, shortName } from '../../../src/engine/compose-logs.js';
import { orphansOf, replicasOf, selectServices, startOrder } from '../../../src/engine/compose.js';
import type { ContainerRow } from '../../../src/engine/container-reports.js';

const project = (): Project => ({
  name: 'demo',
  workingDir: '/srv/demo',
  services: {
    web: { image: 'web', depends_on: { api: { condition: 'service_started', required: true } } },
    api: { build: { context: 'api', dockerfile: 'Containerfile', args: { A: '1', FROM_ENV: null }, target: 'prod' }, scale: 2 },
    db: { image: 'db', deploy: { replicas: 3 } },
    api2: { image: 'x', depends_on: { db: { condition: 'service_healthy', required: true } } },
  },
  networks: {},
  volumes: {},
  disabled: { debug: { image: 'debug' } },
});

const entry = (text: string) => ({ time: '2026-01-01T00:00:00.000000000Z', stream: 'stdout' as const, text });

describe('compose lifecycle', () => {
  it('up SVC takes the service and what it depends on, or only it with --no-deps', () => {
    expect(selectServices(project(), ['web'])).toEqual(['web', 'api']);
    expect(selectServices(project(), ['web'], true)).toEqual(['web']);
    expect(selectServices(project(), [])).toEqual(['web', 'api', 'db', 'api2']);
    expect(() => selectServices(project(), ['nope'])).toThrow(/no such service: nope/);
    expect(() => selectServices(project(), ['debug'])).toThrow(/not active: enable one of its profiles/);
  });

  it('replicas: --scale over scale: over deploy.replicas, else 1', () => {
    expect(replicasOf(project(), 'api')).toBe(2);
    expect(replicasOf(project(), 'db')).toBe(3);
    expect(replicasOf(project(), 'web')).toBe(1);
    expect(replicasOf(project(), 'db', { db: 0 })).toBe(0);
  });

  it('starts dependencies first and refuses cycles', () => {
    const order = startOrder(project());
    expect(order.indexOf('api')).toBeLessThan(order.indexOf('web'));
    expect(order.indexOf('db')).toBeLessThan(order.indexOf('api2'));
    const p = project();
    p.services.api.depends_on = { web: { condition: 'service_started', required: true } };
    expect(() => startOrder(p)).toThrow(/depends_on has a cycle: web → api → web/);
  });

  it('orders a long depends_on chain without deep recursion', () => {
    const n = 50_000;
    const services: Project['services'] = {};
    for (let i = 0; i < n; i++) services[`s${i}`] = i ? { depends_on: { [`s${i - 1}`]: { condition: 'service_started', required: true } } } : {};
    const order = startOrder({ ...project(), services });
    expect(order).toHaveLength(n);
    expect(order[0]).toBe('s0');
    expect(order[n - 1]).toBe(`s${n - 1}`);
  });

  it('orphans are containers of services neither in the files nor behind a profile', () => {
    const row = (service: string) =>
      ({ record: { name: `demo-${service}-1`, config: { labels: { 'com.docker.compose.service': service } } } }) as unknown as ContainerRow;
    expect(orphansOf(project(), [row('web'), row('debug'), row('gone')]).map((r) => r.record.name)).toEqual(['demo-gone-1']);
  });

  it("prefixes lines as docker compose does: the longest name plus one, ' | '", () => {
    const f = new LogFormatter(['web-1', 'db-1'], { color: false, prefix: true, timestamps: false });
    expect(f.line('web-1', entry('hello\n'))).toBe('web-1  | hello\n');
    expect(f.line('db-1', entry('part'))).toBe('db-1   | part');
    // A partial line's rest gets no second prefix.
    expect(f.line('db-1', entry(' rest\n'))).toBe(' rest\n');
    expect(f.status('web-1', 'exited with code 0')).toBe('web-1 exited with code 0\n');
    const c = new LogFormatter(['web-1', 'db-1'], { color: true, prefix: true, timestamps: true });
    expect(c.line('db-1', entry('x\n'))).toBe('\x1b[33mdb-1   | \x1b[0m2026-01-01T00:00:00.000000000Z x\n');
    expect(new LogFormatter(['a-1'], { color: false, prefix: false, timestamps: false }).line('a-1', entry('bare\n'))).toBe('bare\n');
    expect(shortName('demo', 'demo-web-1')).toBe('web-1');
    expect(shortName('demo', 'custom')).toBe('custom');
  });

  it("a service's build: as build options, the image named PROJECT-SERVICE without image:", () => {
    const opts = buildOptionsOf(project(), 'api', { buildArgs: { B: '2', A: 'over' }, env: { FROM_ENV: 'env' }, noCache: true });
    expect(opts).toMatchObject({
      context: '/srv/demo/api',
      file: '/srv/demo/api/Containerfile',
      tags: ['demo-api'],
      buildArgs: { A: 'over', FROM_ENV: 'env', B: '2' },
      target: 'prod',
      noCache: true,
    });
    expect(imageOf(project(), 'web')).toBe('web');
    expect(() => buildOptionsOf(project(), 'web')).toThrow(/has no build: section/);
  });
});
