import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContainerStore, type ContainerRecord } from '../../../src/state/containers.js';
import { scratchDir } from '../../helpers/scratch.js';

const store = () => {
  const dir = scratchDir('skiff-store-');
  return new ContainerStore(join(dir, 'data'), join(dir, 'run'));
};

const add = (s: ContainerStore, id: string, name: string): ContainerRecord => {
  const record = { id, name, created: '', image: 'i', imageId: 'i', imageName: 'i', layers: [], rootfsDriver: 'copy', runtime: 'crun', config: {} } as unknown as ContainerRecord;
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

  it('a full id wins over a name that spells another container\'s id (as in Podman)', () => {
    const s = store();
    add(s, a, 'first');
    add(s, b, a);
    expect(s.find(a).name).toBe('first');
    expect(s.find(b).name).toBe(a);
  });
});
