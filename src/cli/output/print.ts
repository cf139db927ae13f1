// The only writer to stdout: tables, JSON, templates and plain lines.
import { writeOut } from './stdout.js';
import { renderTemplate, templateHeader } from './template.js';

export const printLine = (line: string): void => {
  writeOut(`${line}\n`);
};

// Indented as Podman's command prints it: 4 spaces (images, secret inspect), 5 (the inspect
// commands), 2 (ps, info, network ls, volume ls), 0 for one line (version, history).
// Fields that are Go maps in Podman's reports, which Go's encoder writes with sorted keys.
const MAP_FIELDS = new Set([
  'Labels',
  'labels',
  'Annotations',
  'Options',
  'options',
  'Sysctls',
  'ExposedPorts',
  'PortBindings',
  'Ports',
  'Networks',
  'Tmpfs',
  'Volumes',
  'Attributes',
  'DriverOpts',
  'CgroupConf',
]);
const sortedMaps = (key: string, value: unknown): unknown =>
  MAP_FIELDS.has(key) && value && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : value;

// Go's encoder escapes <, > and & in strings (\u003c ...); outside strings JSON has none of them.
export const printJson = (value: unknown, indent = 4): void => {
  const text = JSON.stringify(value, sortedMaps, indent || undefined).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  writeOut(`${text}\n`);
};

// Podman's tables (tabwriter, minimum cell width 12 with the padding of 2): no column is narrower than this.
export const MIN_COLUMN_WIDTH = 10;

// Prints rows as columns padded to their widths (at least MIN_COLUMN_WIDTH), two spaces apart, as
// Podman's tables are (--noheading: no header row, and the columns as wide as the rows need).
export const printTable = (headers: string[], rows: string[][], options: { noHeading?: boolean } = {}): void => {
  const widths = headers.map((h, i) => Math.max(MIN_COLUMN_WIDTH, options.noHeading ? 0 : h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  let out = options.noHeading ? '' : `${line(headers)}\n`;
  for (const row of rows) out += `${line(row)}\n`;
  writeOut(out);
};

// Prints each item through a --format template (with a header row for "table ...").
export const printTemplate = (template: string, items: unknown[]): void => {
  const header = templateHeader(template);
  const tabbed = template.startsWith('table ');
  const lines = items.map((item) => renderTemplate(template, item));
  if (tabbed) {
    const rows = lines.map((l) => l.split('\t'));
    const head = (header ?? '').split('\t');
    printTable(head, rows);
    return;
  }
  if (lines.length) writeOut(`${lines.join('\n')}\n`);
};

// One of Podman's output modes: "json", a Go template, or the default table.
export type OutputFormat = { kind: 'table' } | { kind: 'json' } | { kind: 'template'; template: string };

export const parseFormat = (format: string | undefined): OutputFormat => {
  if (!format || format === 'table') return { kind: 'table' };
  if (format === 'json' || format === '{{json .}}') return { kind: 'json' };
  return { kind: 'template', template: format };
};
