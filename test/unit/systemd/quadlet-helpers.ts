// Helpers for the Quadlet tests: translate a file under /q/, read the generated unit back.
import { expect } from 'vitest';
import { formatQuadletError, translateQuadlet, type QuadletContext, type QuadletUnit } from '../../../src/systemd/quadlet.js';
import { entriesOf, findSection, parseUnitFile, splitWords, type UnitFile } from '../../../src/systemd/unit-file.js';

export const SKIFF = '/opt/skiff/bin/skiff';

// Translates /q/NAME, which must succeed.
export const unitOf = (name: string, text: string, context?: QuadletContext): QuadletUnit => {
  const result = translateQuadlet(`/q/${name}`, text, SKIFF, context);
  if ('errors' in result) throw new Error(result.errors.map(formatQuadletError).join('\n'));
  return result;
};

// Translates /q/NAME, which must fail: its errors as FILE:LINE: message lines.
export const errorsOf = (name: string, text: string, context?: QuadletContext): string[] => {
  const result = translateQuadlet(`/q/${name}`, text, SKIFF, context);
  expect('errors' in result, `${name} translated without errors`).toBe(true);
  return 'errors' in result ? result.errors.map(formatQuadletError) : [];
};

// The generated unit, parsed back (which also checks that it parses).
export const parsed = (unit: QuadletUnit): UnitFile => {
  const { unit: file, errors } = parseUnitFile(unit.unitText);
  expect(errors).toEqual([]);
  return file;
};

// The values of `key` in a section of the generated unit.
export const valuesOf = (unit: QuadletUnit, section: string, key: string): string[] => entriesOf(findSection(parsed(unit), section), key).map((e) => e.value);

// A command line of the generated [Service] as words.
export const commandOf = (unit: QuadletUnit, key: string): string[] => {
  const [line] = valuesOf(unit, 'Service', key);
  expect(line, `no ${key}= in\n${unit.unitText}`).toBeDefined();
  const split = splitWords(line);
  if ('error' in split) throw new Error(split.error);
  return split.words;
};

// The flags a [Container] section translates to: ExecStart's words between the fixed start
// (… --sdnotify=… -d) and the image.
export const runFlagsOf = (containerLines: string, image = 'quay.io/x/y:1'): string[] => {
  const words = commandOf(unitOf('t.container', `[Container]\nImage=${image}\n${containerLines}\n`), 'ExecStart');
  return words.slice(words.indexOf('-d') + 1, words.lastIndexOf(image));
};
