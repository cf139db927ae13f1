// skiff history IMAGE
import { Command } from 'commander';
import { openEngineFor, parseBool } from '../../engine.js';
import { parseFormat, printJson, printLine, printTable, printTemplate } from '../../output/print.js';
import { shortId, timeAgo } from '../../../util/units.js';

export const build = (name = 'history'): Command =>
  new Command(name)
    .description('Show the history of an image')
    .argument('<image>')
    .option('-q, --quiet', 'print only ids')
    .option('--no-trunc', 'do not truncate the CREATED BY column')
    .option('--format <format>', 'json or a Go template')
    .option('-H, --human [bool]', 'CREATED as "3 days ago" (default true; false: the time itself)', parseBool, true)
    .action(async (image: string, flags: { quiet?: boolean; trunc?: boolean; format?: string; human: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const { record, config } = engine.images.inspect(image);
      const history = [...(config.history ?? [])].reverse();
      const rows = history.map((h, i) => ({
        id: i === 0 ? shortId(record.id) : '<missing>',
        created: h.created ?? '',
        createdBy: h.created_by ?? '',
        comment: h.comment ?? '',
        emptyLayer: h.empty_layer === true,
      }));
      if (flags.quiet) return rows.forEach((r) => printLine(r.id));
      const format = parseFormat(flags.format);
      if (format.kind === 'json') return printJson(rows.map((r) => ({ id: r.id, created: r.created, createdBy: r.createdBy, comment: r.comment })));
      if (format.kind === 'template')
        return printTemplate(
          format.template,
          rows.map((r) => ({ ID: r.id, Created: r.created, CreatedBy: r.createdBy, Comment: r.comment })),
        );
      const cut = (s: string) => (flags.trunc === false || s.length <= 45 ? s : `${s.slice(0, 42)}...`);
      printTable(
        ['ID', 'CREATED', 'CREATED BY', 'COMMENT'],
        rows.map((r) => [r.id, r.created ? (flags.human ? timeAgo(r.created) : r.created) : '', cut(r.createdBy), r.comment]),
      );
    });
