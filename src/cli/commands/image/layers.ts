// skiff image diff IMAGE [IMAGE] / skiff image tree IMAGE: an image's layers and what they change.
import { Command } from 'commander';
import { openEngineFor } from '../../engine.js';
import { renderImageTree } from '../../output/image.js';
import { parseFormat, printJson, printLine } from '../../output/print.js';
import { writeOut } from '../../output/stdout.js';

export const buildImageDiff = (): Command =>
  new Command('diff')
    .description("Show what an image's top layer changed against its parent (A added, C changed, D deleted), or against a second image")
    .argument('<image>')
    .argument('[other]', 'the image to compare with (default: the image without its top layer)')
    .option('--format <format>', 'json for a JSON object')
    .action(async (image: string, other: string | undefined, flags: { format?: string }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const changes = await engine.images.diff(image, other);
      if (parseFormat(flags.format).kind === 'json') {
        const pick = (k: string) => changes.filter((c) => c.kind === k).map((c) => c.path);
        const json: Record<string, string[]> = {};
        for (const [key, kind] of [
          ['changed', 'C'],
          ['added', 'A'],
          ['deleted', 'D'],
        ])
          if (pick(kind).length) json[key] = pick(kind);
        return printJson(json);
      }
      for (const c of changes) printLine(`${c.kind} ${c.path}`);
    });

export const buildImageTree = (): Command =>
  new Command('tree')
    .description("Show an image's layers as a tree, with the images each is the top layer of")
    .argument('<image>')
    .option('--whatrequires', 'show every layer and image built on top of this image instead')
    .action(async (image: string, flags: { whatrequires?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      writeOut(renderImageTree(engine.images.tree(image, flags.whatrequires)));
    });
