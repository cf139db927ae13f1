// skiff images / skiff image ls
import { Command, Option } from 'commander';
import type { ImageSummary } from '../../../engine/index.js';
import { collect, openEngineFor } from '../../engine.js';
import { imageSummaryJson, imageTemplateFields } from '../../output/image.js';
import { parseFormat, printJson, printLine, printTable, printTemplate } from '../../output/print.js';
import { humanSize, shortId, timeAgo } from '../../../util/units.js';

interface ListFlags {
  sort?: string;
  all?: boolean;
  quiet?: boolean;
  digests?: boolean;
  trunc?: boolean;
  filter?: string[];
  format?: string;
  noheading?: boolean;
  history?: boolean;
}

// --sort: created newest first (the list's own order), else ascending by the key.
const sortImages = (images: ImageSummary[], key: string | undefined): ImageSummary[] => {
  if (!key || key === 'created') return images;
  const value = (i: ImageSummary): string | number => (key === 'size' ? i.size : key === 'id' ? i.id : key === 'tag' ? i.tag : i.repository);
  return [...images].sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
};

export const build = (name = 'images'): Command =>
  new Command(name)
    .description('List images in local storage')
    .argument('[reference]', 'show only images matching this reference')
    .option('-a, --all', 'show all images (no intermediate images exist yet)')
    .option('-q, --quiet', 'print only image ids')
    .option('--digests', 'show digests')
    .option('--no-trunc', 'do not truncate ids')
    .option('-f, --filter <filter>', 'filter: dangling=true|false, reference=PATTERN, id=ID', collect)
    .option('--format <format>', 'json, or a Go template such as {{.Repository}}:{{.Tag}}')
    .option('-n, --noheading', 'do not print the header row')
    .addOption(
      new Option('--sort <key>', 'sort by created (the default: newest first), id, repository, size or tag').choices([
        'created',
        'id',
        'repository',
        'size',
        'tag',
      ]),
    )
    .option('--history', 'show the names each image has had (a HISTORY column, the latest first)')
    .action(async (reference: string | undefined, flags: ListFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const filters = [...(flags.filter ?? []), ...(reference ? [`reference=${reference}`] : [])];
      const images = sortImages(engine.images.list({ all: flags.all, filters }), flags.sort);
      const id = (full: string) => (flags.trunc === false ? full : shortId(full));
      if (flags.quiet) {
        for (const uniq of [...new Set(images.map((i) => id(i.id)))]) printLine(uniq);
        return;
      }
      const format = parseFormat(flags.format);
      if (format.kind === 'json') {
        const seen = new Set<string>();
        return printJson(images.filter((i) => !seen.has(i.id) && seen.add(i.id)).map(imageSummaryJson));
      }
      if (format.kind === 'template') return printTemplate(format.template, images.map(imageTemplateFields));
      const headers = ['REPOSITORY', 'TAG', ...(flags.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE', ...(flags.history ? ['HISTORY'] : [])];
      const rows = images.map((i) => [
        i.repository,
        i.tag,
        ...(flags.digests ? [i.digest] : []),
        id(i.id),
        timeAgo(i.created),
        humanSize(i.size),
        ...(flags.history ? [i.history.join(', ')] : []),
      ]);
      printTable(headers, rows, { noHeading: flags.noheading });
    });
