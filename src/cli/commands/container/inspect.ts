// skiff inspect NAME... (containers first, then images) and skiff container inspect.
import { Command, Option } from 'commander';
import { CliError } from '../../../errors.js';
import type { Engine } from '../../../engine/index.js';
import { openEngineFor, reportItems } from '../../engine.js';
import { printError } from '../../errors.js';
import { imageInspectJson } from '../../output/image.js';
import { parseFormat, printJson, printTemplate } from '../../output/print.js';

type Kind = 'container' | 'image' | 'all';

const inspectOne = (engine: Engine, input: string, kind: Kind, size: boolean): unknown => {
  if (kind !== 'image') {
    try {
      return engine.reports.inspect(input, size);
    } catch (error) {
      if (kind === 'container' || !(error instanceof CliError && error.code === 'ENOCONTAINER')) throw error;
    }
  }
  try {
    return imageInspectJson(engine.images.inspect(input));
  } catch (error) {
    if (kind === 'all' && error instanceof CliError && error.code === 'ENOIMAGE') throw new CliError('ENOIMAGE', `no such object: "${input}"`);
    throw error;
  }
};

export const build = (name = 'inspect', kind: Kind = 'all'): Command => {
  const cmd = new Command(name)
    .description(kind === 'container' ? 'Display the configuration of containers' : 'Display the configuration of containers or images')
    .argument('[name...]')
    .option('-f, --format <format>', 'json (default) or a Go template such as {{.State.Status}}')
    .option('-l, --latest', 'inspect the newest container')
    .option('-s, --size', "a container's sizes too: SizeRw (its writable layer) and SizeRootFs (with its image's), in bytes");
  if (kind === 'all') cmd.addOption(new Option('-t, --type <type>', 'container, image or all').choices(['container', 'image', 'all']).default('all'));
  return cmd.action(async (inputs: string[], flags: { format?: string; type?: Kind; latest?: boolean; size?: boolean }, command: Command) => {
    const engine = await openEngineFor(command);
    // (Sizes are measured inside the user namespace: an image's layers hold directories only the
    // container's users may read.)
    if (flags.size) await engine.enterUserNamespace();
    const names = flags.latest ? [engine.reports.latest()].filter((id): id is string => id !== undefined) : inputs;
    if (!names.length) throw new CliError('EUSAGE', 'inspect needs at least one name or id');
    const reports = names.map((input) => {
      try {
        return { data: inspectOne(engine, input, flags.type ?? kind, Boolean(flags.size)) };
      } catch (error) {
        return { error: error as Error };
      }
    });
    const found = reports.filter((r) => r.data).map((r) => r.data);
    const format = parseFormat(flags.format);
    if (format.kind === 'template') printTemplate(format.template, found);
    else printJson(found, 5);
    reportItems(reports, () => {}, printError);
  });
};
