// Podman's Quadlet for skiff: a NAME.container, NAME.volume or NAME.network file (the format of
// podman-systemd.unit(5)) becomes a systemd service that runs skiff. Pure: text in, unit text (and
// the [Install] symlinks to make) or every error out, each naming the file and line; no file is
// read here. [Unit], [Service] and [Install] pass through; the kind's own section is translated and
// kept as X-Container (X-Volume, X-Network), which systemd ignores; any other section is an error,
// but X-* ones, which pass through.
import { basename, dirname, resolve } from 'node:path';
import { CONTAINER_KIND } from './quadlet-container.js';
import { NETWORK_KIND, VOLUME_KIND } from './quadlet-resources.js';
import {
  booleanOf,
  defaultRef,
  fail,
  SUFFIXES,
  wordsOf,
  type QuadletContext,
  type QuadletError,
  type QuadletKind,
  type QuadletRef,
  type ServiceLine,
  type Translation,
} from './quadlet-translation.js';
import { isUnitName } from './quadlet-values.js';
import { entriesOf, findSection, formatUnitFile, lastOf, parseUnitFile, unquote, type UnitEntry, type UnitFile, type UnitSection } from './unit-file.js';

export type { QuadletContext, QuadletError, QuadletRef } from './quadlet-translation.js';

// A symlink to make in the generator's output dir, both paths relative to it (what `systemctl
// enable` would make: default.target.wants/NAME.service → ../NAME.service).
export interface QuadletLink {
  path: string;
  target: string;
}

export interface QuadletUnit {
  unitName: string;
  unitText: string;
  links: QuadletLink[];
}

export type QuadletResult = QuadletUnit | { errors: QuadletError[] };

const KINDS: Record<string, QuadletKind> = { '.container': CONTAINER_KIND, '.volume': VOLUME_KIND, '.network': NETWORK_KIND };

// The file types Podman's Quadlet has and skiff does not.
const PODMAN_ONLY = ['.kube', '.pod', '.image', '.build', '.artifact'];

const extensionOf = (name: string): string => (name.includes('.') ? name.slice(name.lastIndexOf('.')) : '');

// Whether the generator reads a file of that name (Podman's other Quadlet types too, to report them).
export const isQuadletFile = (name: string): boolean => extensionOf(name) in KINDS || PODMAN_ONLY.includes(extensionOf(name));

// FILE:LINE: message (FILE: message for what concerns the whole file, line 0).
export const formatQuadletError = (e: QuadletError): string => `${e.file}${e.line ? `:${e.line}` : ''}: ${e.message}`;

// What a Quadlet file makes, for the others' references: its service and its resource's name
// (VolumeName=, NetworkName=, ContainerName= with %N resolved, else systemd-NAME).
export const quadletRef = (fileName: string, text: string): QuadletRef | undefined => {
  const ref = defaultRef(fileName);
  if (!ref) return undefined;
  const { section, nameKey } = SUFFIXES[extensionOf(fileName)];
  const named = lastOf(findSection(parseUnitFile(text).unit, section), nameKey);
  const name = named && unquote(named.value).replaceAll('%N', ref.unitName.slice(0, -'.service'.length));
  if (!name) return ref;
  return { ...ref, resourceName: name.includes('%') ? undefined : name };
};

// Checks the keys of the kind's own section and of [Quadlet]: unknown ones, and Podman's that skiff lacks.
const checkKeys = (t: Translation, kind: QuadletKind, unit: UnitFile): void => {
  for (const entry of findSection(unit, kind.section)?.entries ?? []) {
    const missing = kind.notInSkiff[entry.key];
    if (missing) fail(t, entry.line, `key ${entry.key} in [${kind.section}] is not supported by skiff: ${missing}`);
    else if (!kind.keys.has(entry.key)) fail(t, entry.line, `unsupported key '${entry.key}' in [${kind.section}]`);
  }
  const quadlet = findSection(unit, 'Quadlet');
  for (const entry of quadlet?.entries ?? []) if (entry.key !== 'DefaultDependencies') fail(t, entry.line, `unsupported key '${entry.key}' in [Quadlet]`);
  // Checked, and no more: skiff adds no network-online dependency to user units to turn off.
  booleanOf(t, quadlet, 'DefaultDependencies');
};

// The [Install] symlinks `systemctl enable` would make: Alias=, WantedBy=, RequiredBy=, UpheldBy=.
// A template (NAME@.service) is installed as its DefaultInstance=, or not at all, as systemd does.
const installLinks = (t: Translation, unitName: string, install: UnitSection | undefined): QuadletLink[] => {
  const unitsOf = (key: string): string[] =>
    entriesOf(install, key).flatMap((entry) =>
      wordsOf(t, entry).filter((word) => {
        if (isUnitName(word)) return true;
        fail(t, entry.line, `invalid ${key} '${word}': use a unit name (not a path)`);
        return false;
      }),
    );
  const links = unitsOf('Alias').map((alias) => ({ path: alias, target: unitName }));
  let instance: string | undefined = unitName;
  if (unitName.includes('@.')) {
    const fallback = lastOf(install, 'DefaultInstance');
    instance = fallback && unquote(fallback.value) ? unitName.replace('@.', `@${unquote(fallback.value)}.`) : undefined;
  }
  const dirs: [string, string][] = [
    ['WantedBy', 'wants'],
    ['RequiredBy', 'requires'],
    ['UpheldBy', 'upholds'],
  ];
  for (const [key, dir] of dirs)
    for (const target of unitsOf(key)) if (instance) links.push({ path: `${target}.${dir}/${instance}`, target: `../${unitName}` });
  return links;
};

// The user's [Service] with the generated lines after it; a default is left out when the user set that key.
const mergeService = (service: UnitSection | undefined, lines: ServiceLine[]): UnitEntry[] => [
  ...(service?.entries ?? []),
  ...lines.filter((l) => !l.isDefault || !lastOf(service, l.key)).map((l) => ({ key: l.key, value: l.value, line: 0 })),
];

// Translates one Quadlet file. `file` is its path (its directory anchors relative paths in it);
// `skiffPath` the absolute path of the launcher the service runs.
export const translateQuadlet = (file: string, text: string, skiffPath: string, context: QuadletContext = {}): QuadletResult => {
  const name = basename(file);
  const ext = extensionOf(name);
  const kind = KINDS[ext];
  if (!kind) {
    const why = PODMAN_ONLY.includes(ext) ? `${ext} files are Podman's: skiff translates` : 'skiff translates only';
    return { errors: [{ file, line: 1, message: `${why} .container, .volume and .network files` }] };
  }
  const base = name.slice(0, -ext.length);
  const unitName = `${base}${SUFFIXES[ext].suffix}.service`;
  if (!base || !isUnitName(unitName)) return { errors: [{ file, line: 1, message: `'${unitName}' is not a valid systemd unit name` }] };
  const parsed = parseUnitFile(text);
  if (parsed.errors.length) return { errors: parsed.errors.map((e) => ({ file, ...e })) };
  const { unit } = parsed;
  const t: Translation = { file, dir: dirname(resolve(file)), base, skiff: [skiffPath], unit: [], errors: [], context };
  for (const section of unit.sections)
    if (![kind.section, 'Unit', 'Service', 'Install', 'Quadlet'].includes(section.name) && !section.name.startsWith('X-'))
      fail(t, section.line, `unsupported section [${section.name}] in a ${ext} file`);
  checkKeys(t, kind, unit);
  const own = findSection(unit, kind.section);
  t.skiff.push(...entriesOf(own, 'GlobalArgs').flatMap((e) => wordsOf(t, e)));
  const service = findSection(unit, 'Service');
  const lines = kind.translate(t, own, service);
  const install = findSection(unit, 'Install');
  const links = installLinks(t, unitName, install);
  if (t.errors.length) return { errors: t.errors.sort((a, b) => a.line - b.line) };
  const sourcePath: UnitEntry[] = file.startsWith('/') ? [{ key: 'SourcePath', value: file, line: 0 }] : [];
  const sections: UnitSection[] = [
    { name: 'Unit', line: 0, entries: [...(findSection(unit, 'Unit')?.entries ?? []), ...sourcePath, ...t.unit] },
    { name: `X-${kind.section}`, line: 0, entries: own?.entries ?? [] },
    { name: 'Service', line: 0, entries: mergeService(service, lines) },
    ...(install ? [install] : []),
    ...unit.sections.filter((s) => s.name.startsWith('X-')),
  ];
  const comments = [`Generated by skiff from ${file}: edit that file, then run systemctl --user daemon-reload`];
  return { unitName, unitText: formatUnitFile({ sections }, comments), links };
};
