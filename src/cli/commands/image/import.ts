// skiff import FILE|- [IMAGE]: a root filesystem tarball as a one-layer image.
import { Command } from 'commander';
import { collect, openEngineFor } from '../../engine.js';
import { printLine } from '../../output/print.js';

export const build = (name = 'import'): Command =>
  new Command(name)
    .description('Create an image from a tarball of a root filesystem (- reads standard input)')
    .argument('<file>')
    .argument('[image]', 'name for the new image')
    .option('-c, --change <instruction>', 'apply CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, USER, EXPOSE, STOPSIGNAL or VOLUME', collect)
    .option('-m, --message <text>', 'commit message (in the image history)')
    .option('-q, --quiet', 'print only the image id')
    .option('--arch <arch>', "the architecture the image says it is for (default: this machine's)")
    .option('--os <os>', 'the OS the image says it is for (default: linux)')
    .option('--variant <variant>', 'the architecture variant the image says it is for')
    .action(
      async (
        file: string,
        image: string | undefined,
        flags: { change?: string[]; message?: string; arch?: string; os?: string; variant?: string },
        cmd: Command,
      ) => {
        const engine = await openEngineFor(cmd);
        await engine.enterUserNamespace();
        const record = await engine.images.import(file === '-' ? process.stdin : file, {
          names: image ? [image] : [],
          changes: flags.change ?? [],
          message: flags.message,
          platform: { architecture: flags.arch, os: flags.os, variant: flags.variant },
        });
        printLine(record.id.slice(7));
      },
    );
