// skiff history IMAGE: Podman's columns (ID CREATED CREATED BY SIZE COMMENT), template fields and
// one-line JSON.
import { Command } from 'commander';
import type { HistoryEntry } from '../../../engine/image-history.js';
import { openEngineFor, parseBool } from '../../engine.js';
import { parseFormat, printJson, printLine, printTable, printTemplate } from '../../output/print.js';
import { humanSize, timeAgo } from '../../../util/units.js';

interface HistoryFlags {
  quiet?: boolean;
  trunc?: boolean;
  format?: string;
  human: boolean;
}

// RFC 3339 to the second, in UTC ("2024-01-01T00:00:00Z"), as Go's time.RFC3339 prints a config's time.
const rfc3339 = (iso: string): string => (Number.isNaN(Date.parse(iso)) ? iso : `${new Date(iso).toISOString().slice(0, 19)}Z`);

// The fields --format templates see, as Podman's history reporter names them.
export const historyFields = (entry: HistoryEntry, flags: HistoryFlags) => {
  const noTrunc = flags.trunc === false;
  const id = entry.id.replace(/^sha256:/, '');
  const utc = rfc3339(entry.created);
  return {
    ID: noTrunc || id === '<missing>' ? id : id.slice(0, 12),
    Created: entry.created ? (flags.human ? timeAgo(entry.created) : utc) : '',
    CreatedAt: entry.created ? `${utc.slice(0, 10)} ${utc.slice(11, 19)} +0000 UTC` : '',
    CreatedSince: entry.created ? timeAgo(entry.created) : '',
    CreatedBy: noTrunc || entry.createdBy.length <= 45 ? entry.createdBy : `${entry.createdBy.slice(0, 42)}...`,
    Size: humanSize(entry.size),
    Comment: entry.comment,
    Tags: [] as string[],
  };
};

// Podman's JSON entry: libimage's keys (CreatedBy capitalised, comment left out when empty) and Created to the second.
const historyJson = (entry: HistoryEntry) => ({
  id: entry.id.replace(/^sha256:/, ''),
  created: entry.created,
  CreatedBy: entry.createdBy,
  size: entry.size,
  ...(entry.comment ? { comment: entry.comment } : {}),
  Created: rfc3339(entry.created),
});

export const build = (name = 'history'): Command =>
  new Command(name)
    .description('Show the history of an image')
    .argument('<image>')
    .option('-q, --quiet', 'print only ids')
    .option('--no-trunc', 'do not truncate ids and the CREATED BY column')
    .option('--format <format>', 'json or a Go template ({{.ID}} {{.Created}} {{.CreatedAt}} {{.CreatedSince}} {{.CreatedBy}} {{.Size}} {{.Comment}})')
    .option('-H, --human [bool]', 'CREATED as "3 days ago" (default true; false: the time itself)', parseBool, true)
    .action(async (image: string, flags: HistoryFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const entries = engine.images.history(image);
      const rows = entries.map((e) => historyFields(e, flags));
      if (flags.quiet) return rows.forEach((r) => printLine(r.ID));
      const format = parseFormat(flags.format);
      // (Podman's history JSON is one line.)
      if (format.kind === 'json') return printJson(entries.map(historyJson), 0);
      if (format.kind === 'template') return printTemplate(format.template, rows);
      printTable(
        ['ID', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'],
        rows.map((r) => [r.ID, r.Created, r.CreatedBy, r.Size, r.Comment]),
      );
    });
