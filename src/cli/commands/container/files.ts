// cp, diff, export, commit and top: looking into a container's files and processes.
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { CommitOptions } from '../../../engine/container-files.js';
import { parseTopDescriptors, TOP_DESCRIPTORS } from '../../../engine/container-top.js';
import { collect, openEngineFor } from '../../engine.js';
import { checkArchiveOutput, writeArchive } from '../../output/archive.js';
import { parseFormat, printJson, printLine, printTable } from '../../output/print.js';

export const buildCp = (name = 'cp'): Command =>
  new Command(name)
    .description('Copy files between a container and the host (CONTAINER:PATH on one side)')
    .argument('<source>')
    .argument('<destination>')
    .option('-a, --archive', "accepted for compatibility: ownership is always mapped to the container's root and to you")
    .option('--overwrite', "let a directory replace a file of the destination's name (within a copied tree, what is copied always replaces what stands there)")
    .action(async (source: string, destination: string, flags: { overwrite?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      await engine.files.copy(source, destination, { overwrite: flags.overwrite });
    });

export const buildDiff = (name = 'diff'): Command =>
  new Command(name)
    .description('Show what a container changed in its root filesystem (A added, C changed, D deleted)')
    .argument('[container]')
    .option('--format <format>', 'json for a JSON object')
    .option('-l, --latest', 'the newest container')
    .action(async (input: string | undefined, flags: { format?: string; latest?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const target = engine.reports.one(input, flags.latest);
      await engine.enterUserNamespace();
      const changes = await engine.files.diff(target);
      if (parseFormat(flags.format).kind === 'json') {
        const pick = (k: string) => changes.filter((c) => c.kind === k).map((c) => c.path);
        return printJson({ changed: pick('C'), added: pick('A'), deleted: pick('D') });
      }
      for (const c of changes) printLine(`${c.kind} ${c.path}`);
    });

export const buildExport = (name = 'export'): Command =>
  new Command(name)
    .description("Write a container's root filesystem as a tar archive")
    .argument('<container>')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .action(async (input: string, flags: { output?: string }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      checkArchiveOutput(flags.output);
      await engine.enterUserNamespace();
      await writeArchive(flags.output, (out) => engine.files.export(input, out));
    });

export const buildCommit = (name = 'commit'): Command =>
  new Command(name)
    .description("Create an image from a container's changes")
    .argument('<container>')
    .argument('[image]', 'name for the new image')
    .option('-c, --change <instruction>', 'apply CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, USER, EXPOSE, STOPSIGNAL or VOLUME', collect)
    .option('-m, --message <text>', 'commit message (in the image history)')
    .option('-a, --author <name>', 'author of the image')
    .option('-p, --pause', 'accepted for compatibility')
    .option('-q, --quiet', 'print only the image id')
    .addOption(new Option('-f, --format <format>', "the image's manifest format: docker (skiff's default) or oci").choices(['docker', 'oci']))
    .option('--iidfile <file>', 'write the image id to this file')
    .option('-s, --squash', "the whole root filesystem as the image's one layer")
    .option('--include-volumes', "accepted: skiff's commits never hold volumes (their content stays in the volumes), nor their mount points")
    .action(async (input: string, image: string | undefined, flags: CommitFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const options: CommitOptions = {
        names: image ? [image] : [],
        changes: flags.change ?? [],
        message: flags.message,
        author: flags.author,
        squash: flags.squash,
        format: flags.format as CommitOptions['format'],
      };
      const record = await engine.images.committing((installed) => engine.files.commit(input, options, installed));
      // (As Podman's: the id without its "sha256:".)
      if (flags.iidfile) writeFileSync(flags.iidfile, record.id.slice(7));
      printLine(record.id.slice(7));
    });

interface CommitFlags {
  change?: string[];
  message?: string;
  author?: string;
  quiet?: boolean;
  format?: string;
  iidfile?: string;
  squash?: boolean;
  includeVolumes?: boolean;
}

export const buildTop = (name = 'top'): Command =>
  new Command(name)
    .description('Show the processes of a running container')
    .argument('[container]')
    .argument(
      '[descriptors...]',
      `the columns, Podman's descriptors (${TOP_DESCRIPTORS.join(',')}; AIX codes such as %C); other arguments run ps(1) in the container`,
    )
    .option('-l, --latest', 'the newest container')
    // ps(1)'s own options (-eo pid,comm) are arguments for it.
    .allowUnknownOption()
    .action(async (input: string | undefined, descriptors: string[], flags: { latest?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      // (With --latest every argument is a descriptor.)
      if (flags.latest && input !== undefined) [input, descriptors] = [undefined, [input, ...descriptors]];
      const target = engine.reports.one(input, flags.latest);
      const known = parseTopDescriptors(descriptors);
      if (!known) return (await engine.files.topWithPs(target, descriptors)).forEach(printLine);
      const { headers, rows } = engine.files.top(target, known);
      printTable(headers, rows);
    });
