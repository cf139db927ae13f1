// skiff volume create|ls|inspect|rm|prune|exists: named volumes (directories under the store that
// containers mount with -v NAME:/path; their data outlives the containers).
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import type { VolumeSummary } from '../../../engine/index.js';
import { confirm } from '../../confirm.js';
import { buildExists, collect, openEngineFor, reportItems } from '../../engine.js';
import { printError } from '../../errors.js';
import { checkArchiveOutput, writeArchive } from '../../output/archive.js';
import { parseFormat, printJson, printLine, printTable, printTemplate } from '../../output/print.js';

// Podman's `volume inspect` shape.
const volumeJson = (v: VolumeSummary) => ({
  Name: v.Name,
  Driver: v.Driver,
  Mountpoint: v.Mountpoint,
  CreatedAt: v.CreatedAt,
  Labels: v.Labels,
  Scope: v.Scope,
  Options: v.Options,
  // (Podman's order; Anonymous only when it is one, as Go's omitempty leaves it out.)
  ...(v.Anonymous ? { Anonymous: true } : {}),
  MountCount: 0,
  NeedsCopyUp: v.NeedsCopyUp === true,
});

const buildCreate = (): Command =>
  new Command('create')
    .description('Create a volume')
    .argument('[name]', 'its name (default: a random one)')
    .option('-l, --label <key=value>', 'set a label', collect)
    .option('-o, --opt <option>', 'type=tmpfs (with o=size=64m,… and device=tmpfs): a tmpfs in each container that uses it', collect)
    .option('-d, --driver <driver>', 'only local', 'local')
    .option('--ignore', 'no error if the volume exists already')
    .action(async (name: string | undefined, flags: { label?: string[]; opt?: string[]; driver: string; ignore?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      if (flags.ignore && name && engine.volumes.exists(name)) return printLine(name);
      printLine((await engine.volumes.create(name, { labels: flags.label, opts: flags.opt, driver: flags.driver })).Name);
    });

const buildList = (): Command =>
  new Command('ls')
    .alias('list')
    .description('List volumes')
    .option('-q, --quiet', 'print only names')
    .option('-f, --filter <key=value>', 'name=, label=KEY[=VALUE], dangling=true|false', collect)
    .option('--format <format>', 'json, or a Go template such as {{.Name}} {{.Mountpoint}}')
    .option('--noheading', 'do not print the header row')
    .action(async (flags: { quiet?: boolean; filter?: string[]; format?: string; noheading?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const volumes = engine.volumes.list(flags.filter);
      if (flags.quiet) return volumes.forEach((v) => printLine(v.Name));
      const format = parseFormat(flags.format);
      if (format.kind === 'json') return printJson(volumes.map(volumeJson), 2);
      if (format.kind === 'template') return printTemplate(format.template, volumes.map(volumeJson));
      const rows = volumes.map((v) => [v.Driver, v.Name]);
      printTable(['DRIVER', 'VOLUME NAME'], rows, { noHeading: flags.noheading });
    });

const buildInspect = (): Command =>
  new Command('inspect')
    .description('Show volumes in detail')
    .argument('[name...]')
    .option('-a, --all', 'every volume')
    .option('-f, --format <format>', 'json (default) or a Go template')
    .action(async (names: string[], flags: { all?: boolean; format?: string }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const wanted = flags.all ? engine.volumes.list().map((v) => v.Name) : names;
      const reports = wanted.map((name) => {
        try {
          return { data: engine.volumes.inspect(name) };
        } catch (error) {
          return { error: error as Error };
        }
      });
      const found = reports.flatMap((r) => (r.data ? [volumeJson(r.data)] : []));
      const format = parseFormat(flags.format);
      if (format.kind === 'template') printTemplate(format.template, found);
      else printJson(found, 5);
      reportItems(reports, () => {}, printError);
    });

const buildRm = (): Command =>
  new Command('rm')
    .alias('remove')
    .description('Remove volumes (refused while a container uses one)')
    .argument('[name...]')
    .option('-a, --all', 'every volume no container uses (with --force: every volume)')
    .option('-f, --force', 'remove the containers that use it too (running ones stopped first); no error for a volume that does not exist')
    .option('-t, --time <seconds>', 'with --force: seconds a running container has to stop before it is killed (default: its stop timeout)', seconds)
    .action(async (names: string[], flags: { all?: boolean; force?: boolean; time?: number }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      // (--all: the unused ones; with --force every one, the containers using them too.)
      if (flags.all && !flags.force) return (await engine.volumes.prune()).forEach((n) => printLine(n));
      const reports = [];
      for (const name of flags.all ? engine.volumes.list().map((v) => v.Name) : names) {
        try {
          const removed = await engine.volumes.remove(name, { force: flags.force, timeout: flags.time });
          if (removed) reports.push({ name: removed });
        } catch (error) {
          reports.push({ name, error: error as Error });
        }
      }
      reportItems(reports, (r) => printLine(r.name), printError);
    });

const buildPrune = (): Command =>
  new Command('prune')
    .description('Remove every volume no container uses')
    .option('-f, --force', 'do not ask for confirmation')
    .option('--filter <key=value>', 'name=, label=KEY[=VALUE]', collect)
    .action(async (flags: { filter?: string[]; force?: boolean }, cmd: Command) => {
      if (!(await confirm('Remove every volume no container uses?', flags.force))) return;
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      for (const name of await engine.volumes.prune(flags.filter)) printLine(name);
    });

// Podman re-reads its volume plugins' volumes; skiff's volumes are all local, none from a plugin.
const buildReload = (): Command =>
  new Command('reload').description('Accepted for Podman scripts: skiff has no volume plugins, so there is nothing to reload').action(() => {});

const seconds = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError('EUSAGE', `invalid --time "${value}": use a whole number of seconds`);
  return n;
};

const buildExport = (): Command =>
  new Command('export')
    .description("Write a volume's files as a tar archive")
    .argument('<name>')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .action(async (name: string, flags: { output?: string }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      checkArchiveOutput(flags.output);
      engine.volumes.mountpoint(name); // no such volume (or a tmpfs one): fails before the file is made
      await engine.enterUserNamespace();
      await writeArchive(flags.output, (out) => engine.volumes.export(name, out));
    });

const buildImport = (): Command =>
  new Command('import')
    .description('Unpack a tar archive into a volume (- reads standard input)')
    .argument('<name>')
    .argument('<file>')
    .action(async (name: string, file: string, _flags: unknown, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      await engine.volumes.import(name, file === '-' ? process.stdin : file);
    });

const buildMount = (): Command =>
  new Command('mount')
    .description("Print where a volume's files are (inside skiff's namespace: see skiff unshare)")
    .argument('<name...>')
    .action(async (names: string[], _flags: unknown, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      for (const name of names) printLine(engine.volumes.mountpoint(name));
    });

const buildUnmount = (): Command =>
  new Command('unmount')
    .alias('umount')
    .description('Accepted for compatibility: a local volume is a directory, never mounted on its own')
    .argument('<name...>')
    .action(async (names: string[], _flags: unknown, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      for (const name of names) printLine(engine.volumes.inspect(name).Name);
    });

export const build = (): Command =>
  new Command('volume')
    .description('Manage volumes')
    .addCommand(buildCreate())
    .addCommand(buildList())
    .addCommand(buildInspect())
    .addCommand(buildRm())
    .addCommand(buildPrune())
    .addCommand(buildExists('volume', (engine, name) => engine.volumes.exists(name)))
    .addCommand(buildExport())
    .addCommand(buildImport())
    .addCommand(buildMount())
    .addCommand(buildReload())
    .addCommand(buildUnmount());
