// build's -o/--output as Buildah reads it, and the flags it refuses.
import { describe, expect, it } from 'vitest';
import { idMaps, parseOutput } from '../../../src/cli/commands/image/build-flags.js';

describe('parseOutput', () => {
  it('reads a directory, "-", and type=local|tar,dest=', () => {
    expect(parseOutput('/tmp/out')).toEqual({ type: 'local', dest: '/tmp/out' });
    expect(parseOutput('-')).toEqual({ type: 'tar', dest: '-' });
    expect(parseOutput('type=local,dest=/x')).toEqual({ type: 'local', dest: '/x' });
    expect(parseOutput('type=tar,dest=/x.tar')).toEqual({ type: 'tar', dest: '/x.tar' });
    expect(parseOutput('dest=-,type=tar')).toEqual({ type: 'tar', dest: '-' });
  });

  it('refuses what it cannot write, naming the way it can', () => {
    expect(() => parseOutput('type=registry,dest=x')).toThrow('--output type=registry,dest=x: type registry is not one of local or tar');
    expect(() => parseOutput('type=local')).toThrow(/dest= is needed/);
    expect(() => parseOutput('type=local,dest=-')).toThrow(/a directory cannot go to standard output/);
    expect(() => parseOutput('type=tar,dest=x,compression=gzip')).toThrow(/unknown option compression/);
    expect(() => parseOutput('type=tar,x')).toThrow(/"x" is not KEY=VALUE/);
  });
});

describe('idMaps', () => {
  it('takes repeated and comma-separated maps', () => {
    expect(idMaps(['0:1:10,10:100:5', '20:200:1'])).toEqual(['0:1:10', '10:100:5', '20:200:1']);
    expect(idMaps(undefined)).toBeUndefined();
  });
});
