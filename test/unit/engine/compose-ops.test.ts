import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/compose/load.js';
import { runCreateOptions, selectServices } from '../../../src/engine/compose-ops.js';

const load = (text: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'cops-'));
  writeFileSync(join(dir, 'compose.yaml'), text);
  return loadProject({ cwd: dir, env: {} }).project;
};

const project = load(`name: demo
services:
  web:
    image: img
    command: ["serve"]
    ports: ["8080:80"]
    restart: always
    environment: {A: "1"}
    labels: {team: red}
`);

const labels = (l: string[] | undefined) => Object.fromEntries((l ?? []).map((x) => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)]));

describe('compose run create options', () => {
  it("names and labels a one-off container as compose does, without the service's ports or restart policy", () => {
    const o = runCreateOptions(project, { service: 'web' });
    expect(o.name).toMatch(/^demo-web-run-[0-9a-f]{12}$/);
    const l = labels(o.labels);
    expect(l).toMatchObject({ 'com.docker.compose.oneoff': 'True', 'com.docker.compose.service': 'web', team: 'red' });
    expect(l['com.docker.compose.slug'].slice(0, 12)).toBe(o.name?.slice(-12));
    expect(o.publish).toEqual([]);
    expect(o.restart).toBeUndefined();
    expect(o.networkAliases).toEqual([]);
    expect(o.command).toEqual(['serve']);
  });

  it('takes the run flags over the service', () => {
    const o = runCreateOptions(project, {
      service: 'web',
      command: ['sh'],
      entrypoint: ['/bin/x', '-v'],
      env: ['A=2'],
      labels: ['team=blue'],
      servicePorts: true,
      name: 'mine',
      rm: true,
    });
    expect(o).toMatchObject({ name: 'mine', command: ['sh'], entrypoint: '["/bin/x","-v"]', publish: ['8080:80/tcp'], rm: true });
    expect(o.env?.at(-1)).toBe('A=2');
    expect(labels(o.labels).team).toBe('blue');
    expect(runCreateOptions(project, { service: 'web', publish: ['9:9'] }).publish).toEqual(['9:9']);
    expect(() => runCreateOptions(project, { service: 'web', labels: ['novalue'] })).toThrow('label must be set as KEY=VALUE');
  });

  it('refuses unknown services as compose does (exit 1)', () => {
    expect(selectServices(project, [])).toEqual(['web']);
    try {
      selectServices(project, ['web', 'nope']);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ message: 'no such service: nope', exitCode: 1 });
    }
  });
});
