import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTimeOf } from '../../../src/util/proc.js';
import { describe, expect, it } from 'vitest';
import { ContainerStore, type ContainerRecord } from '../../../src/state/containers.js';
import { scratchDir } from '../../helpers/scratch.js';

const store = () => {
  const dir = scratchDir('skiff-store-');
  return new ContainerStore(join(dir, 'data'), join(dir, 'run'));
};

const add = (s: ContainerStore, id: string, name: string): ContainerRecord => {
  const record = {
    id,
    name,
    created: '',
    image: 'i',
    imageId: 'i',
    imageName: 'i',
    layers: [],
    rootfsDriver: 'copy',
    runtime: 'crun',
    config: {},
  } as unknown as ContainerRecord;
  s.reserveName(name, id);
  s.commit(record, () => undefined);
  return record;
};

describe('ContainerStore.find', () => {
  const a = `abc1${'0'.repeat(60)}`;
  const b = `abc2${'0'.repeat(60)}`;

  it('finds by full id, name and unique id prefix', () => {
    const s = store();
    add(s, a, 'first');
    add(s, b, 'second');
    expect(s.find(a).name).toBe('first');
    expect(s.find('second').id).toBe(b);
    expect(s.find('abc2').id).toBe(b);
    expect(() => s.find('abc')).toThrow(/more than one container matches id prefix abc/);
    expect(() => s.find('nosuch')).toThrow(/no such container: nosuch/);
  });

  it("a full id wins over a name that spells another container's id (as in Podman)", () => {
    const s = store();
    add(s, a, 'first');
    add(s, b, a);
    expect(s.find(a).name).toBe('first');
    expect(s.find(b).name).toBe(a);
  });
});

describe('ContainerStore.effectiveState', () => {
  const id = `def0${'0'.repeat(60)}`;
  // This test process stands in for a live monitor (its pid and /proc start time).
  const self = { monitorPid: process.pid, monitorStartTime: startTimeOf(process.pid) };
  const gone = { monitorPid: 999_999_999, monitorStartTime: '1' };

  it('reads a start left under way (its command killed) from the monitor and its files', () => {
    const s = store();
    add(s, id, 'c');
    // The monitor gave up before creating anything: created, as recorded.
    s.writeState(id, { status: 'created', restartCount: 0, launching: true, ...gone });
    expect(s.effectiveState(id)).toMatchObject({ status: 'created', launching: undefined });
    // The container ran and exited: the exit file says how.
    mkdirSync(s.runtimeDir(id), { recursive: true });
    writeFileSync(s.exitFile(id), JSON.stringify({ exitCode: 3, signal: 0, oomKilled: false, finishedAt: 'then' }));
    expect(s.effectiveState(id)).toMatchObject({ status: 'exited', exitCode: 3 });
    // A pid file and no exit file, nothing alive: it died with its monitor.
    rmSync(s.exitFile(id));
    writeFileSync(s.pidFile(id), '999999999\n');
    expect(s.effectiveState(id)).toMatchObject({ status: 'exited', exitCode: -1 });
  });

  it('takes a start or stop as recorded while its command holds the lock, and a stop whose command died as running', async () => {
    const s = store();
    add(s, id, 'c');
    s.writeState(id, { status: 'stopping', restartCount: 0, ...self });
    expect(s.effectiveState(id).status).toBe('running');
    await s.withContainerLock(id, async () => {
      expect(s.effectiveState(id).status).toBe('stopping');
      s.writeState(id, { status: 'created', restartCount: 0, launching: true, ...self });
      expect(s.effectiveState(id)).toMatchObject({ status: 'created', launching: true });
    });
  });

  it('reports a running container whose monitor died as running while its process lives (pid and start time)', () => {
    const s = store();
    add(s, id, 'c');
    s.writeState(id, { status: 'running', restartCount: 0, ...gone, pid: process.pid, pidStartTime: startTimeOf(process.pid) });
    expect(s.effectiveState(id)).toMatchObject({ status: 'running', monitorLost: true });
    s.writeState(id, { status: 'running', restartCount: 0, ...gone, pid: process.pid, pidStartTime: '1' });
    expect(s.effectiveState(id)).toMatchObject({ status: 'exited', exitCode: -1 });
  });
});
