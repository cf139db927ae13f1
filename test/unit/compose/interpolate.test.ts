import { describe, expect, it } from 'vitest';
import { interpolate, parseEnvFile } from '../../../src/compose/interpolate.js';

const env = { A: 'a', EMPTY: '', B: 'b' };

describe('compose interpolation', () => {
  it.each([
    ['${A}', 'a'],
    ['$A-x', 'a-x'],
    ['x${A}y', 'xay'],
    ['$$A', '$A'],
    ['$${A}', '${A}'],
    ['${UNSET:-d}', 'd'],
    ['${EMPTY:-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${UNSET-d}', 'd'],
    ['${A:-d}', 'a'],
    ['${UNSET:-${B}}', 'b'],
    ['${A:+r}', 'r'],
    ['${EMPTY:+r}', ''],
    ['${EMPTY+r}', 'r'],
    ['${A:?boom}', 'a'],
    ['${EMPTY?boom}', ''],
  ])('%s → %s', (input, out) => {
    expect(interpolate(input, env)).toBe(out);
  });

  it('reports unset variables and substitutes blank', () => {
    const missing: string[] = [];
    expect(interpolate('x${NOPE}$ALSO', env, (n) => missing.push(n))).toBe('x');
    expect(missing).toEqual(['NOPE', 'ALSO']);
  });

  it('fails required variables with their message', () => {
    expect(() => interpolate('${UNSET:?set it please}', env)).toThrow('required variable UNSET is missing a value: set it please');
    expect(() => interpolate('${EMPTY:?no}', env)).toThrow('required variable EMPTY is missing a value: no');
    expect(() => interpolate('${UNSET?x}', env)).toThrow('required variable UNSET');
  });

  it('refuses malformed templates', () => {
    expect(() => interpolate('${A', env)).toThrow('invalid interpolation format');
    expect(() => interpolate('cost $5', env)).toThrow('write $$ for a literal $');
    expect(() => interpolate('${A%x}', env)).toThrow('unknown operator');
  });

  it('reads .env files as compose does', () => {
    const text = '# c\nexport X=1\nY="two\\nlines"\nZ=\'${X} lit\'\nW=${X}-w # comment\nQ=a#b\n';
    expect(parseEnvFile(text, '.env')).toEqual({ X: '1', Y: 'two\nlines', Z: '${X} lit', W: '1-w', Q: 'a#b' });
  });
});
