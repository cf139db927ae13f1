// What the Quadlet kinds (.container, .volume, .network) share while translating one file: its
// state, the error list, and the readers of values that report a bad one by file and line.
import { resolve } from 'node:path';
import { messageOf } from '../errors.js';
import { checkName } from '../util/names.js';
import { parseBoolean } from './quadlet-values.js';
import { entriesOf, lastOf, splitWords, unquote, type UnitEntry, type UnitSection } from './unit-file.js';

export interface QuadletError {
  file: string;
  line: number;
  message: string;
}

// What another Quadlet file makes, for references to it (Volume=data.volume:/data): its service, and
// the volume's, network's or container's name (undefined when only systemd could resolve it).
export interface QuadletRef {
  unitName: string;
  resourceName: string | undefined;
}

export interface QuadletContext {
  /** The Quadlet files there are, by file name; without it, a reference takes the default names. */
  refs?: ReadonlyMap<string, QuadletRef>;
  /** Whether a host path exists (AddDevice=-/dev/x adds the device only if it does); default: yes. */
  exists?: (path: string) => boolean;
}

// One line of the generated [Service]: a default yields to the user's own setting of the key.
export interface ServiceLine {
  key: string;
  value: string;
  isDefault?: boolean;
}

// One file's translation in progress.
export interface Translation {
  file: string;
  dir: string;
  /** The file name without its extension. */
  base: string;
  /** The launcher and the GlobalArgs= words: how each generated command starts. */
  skiff: string[];
  /** Lines added to [Unit] (dependencies on other Quadlet units, RequiresMountsFor=). */
  unit: UnitEntry[];
  errors: QuadletError[];
  context: QuadletContext;
}

// What each file type translates, and how.
export interface QuadletKind {
  section: string;
  keys: ReadonlySet<string>;
  /** Podman's keys that skiff has no flag for, with what is missing. */
  notInSkiff: Readonly<Record<string, string>>;
  translate: (t: Translation, own: UnitSection | undefined, service: UnitSection | undefined) => ServiceLine[];
}

// Each file type's service name after NAME (data.volume → data-volume.service) and the key naming
// what it makes.
export const SUFFIXES: Readonly<Record<string, { suffix: string; nameKey: string; section: string }>> = {
  '.container': { suffix: '', nameKey: 'ContainerName', section: 'Container' },
  '.volume': { suffix: '-volume', nameKey: 'VolumeName', section: 'Volume' },
  '.network': { suffix: '-network', nameKey: 'NetworkName', section: 'Network' },
};

export const fail = (t: Translation, line: number, message: string): void => {
  t.errors.push({ file: t.file, line, message });
};

// The words of a list value (Exec=, PodmanArgs=); an unbalanced quote is an error naming the key.
export const wordsOf = (t: Translation, entry: UnitEntry): string[] => {
  const split = splitWords(entry.value);
  if ('error' in split) {
    fail(t, entry.line, `invalid ${entry.key}=: ${split.error}`);
    return [];
  }
  return split.words;
};

// A single-valued key's value (surrounding quotes off); undefined when unset or empty.
export const stringOf = (section: UnitSection | undefined, key: string): { value: string; entry: UnitEntry } | undefined => {
  const entry = lastOf(section, key);
  const value = entry && unquote(entry.value);
  return entry && value ? { value, entry } : undefined;
};

// A boolean key's value: undefined when unset; an error (and undefined) when not a boolean.
export const booleanOf = (t: Translation, section: UnitSection | undefined, key: string): boolean | undefined => {
  const entry = lastOf(section, key);
  if (!entry) return undefined;
  const value = parseBoolean(unquote(entry.value));
  if (value === undefined) fail(t, entry.line, `invalid ${key} '${entry.value}': use a boolean (yes or no)`);
  return value;
};

// Checks a name skiff will give a volume, network or container; a name with systemd specifiers
// (%N) is left to skiff, after systemd has expanded it.
export const checkResourceName = (t: Translation, entry: UnitEntry, kind: 'container' | 'network' | 'volume', name: string): void => {
  if (name.includes('%')) return;
  try {
    checkName(kind, name);
  } catch (error) {
    fail(t, entry.line, `${entry.key}=: ${messageOf(error)}`);
  }
};

// The names a Quadlet file gives by default: data.volume is data-volume.service making the volume
// systemd-data.
export const defaultRef = (fileName: string): QuadletRef | undefined => {
  const ext = fileName.slice(fileName.lastIndexOf('.'));
  const kind = SUFFIXES[ext];
  if (!kind || !fileName.includes('.')) return undefined;
  const base = fileName.slice(0, -ext.length);
  return { unitName: `${base}${kind.suffix}.service`, resourceName: `systemd-${base}` };
};

// Resolves a reference to another Quadlet file (data.volume) to its resource's name, and makes this
// unit require and follow that file's service.
export const resolveRef = (t: Translation, line: number, fileName: string): string | undefined => {
  const ref = t.context.refs ? t.context.refs.get(fileName) : defaultRef(fileName);
  if (!ref) {
    fail(t, line, `requested Quadlet unit ${fileName} was not found`);
    return undefined;
  }
  if (!ref.resourceName) {
    fail(t, line, `cannot tell what ${fileName} is named: its name has systemd specifiers other than %N`);
    return undefined;
  }
  if (!t.unit.some((e) => e.key === 'Requires' && e.value === ref.unitName))
    t.unit.push({ key: 'Requires', value: ref.unitName, line: 0 }, { key: 'After', value: ref.unitName, line: 0 });
  return ref.resourceName;
};

// A path relative to the Quadlet file's directory made absolute; one starting with a systemd
// specifier (%h/data) is left for systemd.
export const absolutePath = (t: Translation, path: string): string => (/^%[^%]/.test(path) ? path : resolve(t.dir, path));

// Key=value pairs of Environment=/Label=-style keys: words, each KEY=VALUE (or a bare KEY).
export const keyValuesOf = (t: Translation, section: UnitSection | undefined, key: string): string[] =>
  entriesOf(section, key).flatMap((entry) =>
    wordsOf(t, entry).filter((word) => {
      if (!word.startsWith('=')) return true;
      fail(t, entry.line, `invalid ${key} '${word}': the name before = is empty`);
      return false;
    }),
  );
