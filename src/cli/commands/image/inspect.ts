// skiff image inspect IMAGE... (and skiff inspect, for images until containers exist)
import { Command } from 'commander';
import { openEngineFor, reportItems } from '../../engine.js';
import { imageInspectJson } from '../../output/image.js';
import { parseFormat, printJson, printTemplate } from '../../output/print.js';
import { printError } from '../../errors.js';

export const build = (name = 'inspect'): Command =>
  new Command(name)
    .description('Display the configuration of images')
    .argument('<image...>')
    .option('-f, --format <format>', 'json (default) or a Go template such as {{.Id}}')
    .action(async (images: string[], flags: { format?: string }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const reports = images.map((input) => {
        try {
          return { data: imageInspectJson(engine.images.inspect(input)) };
        } catch (error) {
          return { error: error as Error };
        }
      });
      const found = reports.filter((r) => r.data).map((r) => r.data!);
      const format = parseFormat(flags.format);
      if (format.kind === 'template') printTemplate(format.template, found);
      else printJson(found, 5);
      reportItems(reports, () => {}, printError);
    });
