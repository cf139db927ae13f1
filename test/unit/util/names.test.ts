import { describe, expect, it } from 'vitest';
import { checkName, isValidName, NAME_MAX } from '../../../src/util/names.js';

describe('names', () => {
  it("caps names at NAME_MAX characters after Podman's rule", () => {
    expect(NAME_MAX).toBe(200);
    expect(() => checkName('container', 'a'.repeat(NAME_MAX))).not.toThrow();
    expect(() => checkName('container', 'a'.repeat(NAME_MAX + 1))).toThrow(
      'invalid container name "aaaaaaaaaaaaaaaaaaaa…": it is 201 characters long, at most 200 are allowed',
    );
    expect(() => checkName('network', 'a/b')).toThrow('invalid network name "a/b": use letters, digits, _ . - (starting with a letter or digit)');
  });

  it('lookups treat an over-long name as no name', () => {
    expect(isValidName('a'.repeat(NAME_MAX))).toBe(true);
    expect(isValidName('a'.repeat(NAME_MAX + 1))).toBe(false);
  });
});
