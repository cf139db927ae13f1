// skiff secret create|ls|inspect|rm|exists: data kept apart from images and containers (file
// driver: 0600 files in the store; shell: the user's commands), given to containers with
// run/create --secret as a read-only file or an environment variable.
import { Command } from 'commander';
import type { SecretRecord } from '../../../engine/index.js';
import { CliError } from '../../../errors.js';
import { timeAgo } from '../../../util/units.js';
import { buildExists, collect, openEngineFor, reportItems } from '../../engine.js';
import { printError } from '../../errors.js';
import { parseFormat, printJson, printLine, printTable, printTemplate } from '../../output/print.js';

// Podman's `secret inspect` shape (SecretInfoReport).
const secretJson = (s: SecretRecord) => ({
  ID: s.ID,
  CreatedAt: s.CreatedAt,
  UpdatedAt: s.UpdatedAt,
  Spec: { Name: s.Name, Driver: { Name: s.Driver, Options: s.DriverOptions }, Labels: s.Labels },
});

// The fields `secret ls --format` templates see (Podman's SecretListReport).
const listFields = (s: SecretRecord) => ({
  ID: s.ID,
  Name: s.Name,
  Driver: s.Driver,
  CreatedAt: timeAgo(s.CreatedAt),
  UpdatedAt: timeAgo(s.UpdatedAt),
});

// A time as Go prints one: "2024-05-01 10:00:00.123 +0000 UTC".
const goTime = (iso: string): string => `${iso.replace('T', ' ').replace(/Z$/, '')} +0000 UTC`;

// `secret inspect --pretty`: Podman's human-readable form.
const pretty = (s: SecretRecord): string =>
  [
    `ID:              ${s.ID}`,
    `Name:              ${s.Name}`,
    ...(Object.keys(s.Labels).length ? ['Labels:', ...Object.entries(s.Labels).map(([k, v]) => ` - ${k}${v ? `=${v}` : ''}`)] : []),
    `Driver:            ${s.Driver}`,
    `Created at:        ${goTime(s.CreatedAt)}`,
    `Updated at:        ${goTime(s.UpdatedAt)}`,
  ].join('\n');

interface CreateFlags {
  driver?: string;
  driverOpts?: string[];
  env?: boolean;
  label?: string[];
  replace?: boolean;
  ignore?: boolean;
}

const buildCreate = (): Command =>
  new Command('create')
    .description('Create a secret from a file, standard input (-) or, with --env, an environment variable')
    .argument('<name>', 'its name: at most 64 letters, digits, _ . - (starting and ending with a letter or digit)')
    .argument('<file>', "a file, - for standard input, or with --env a variable's name")
    .option('-d, --driver <driver>', 'file (the default: kept in 0600 files in the store) or shell (your commands, see --driver-opts)')
    .option('--driver-opts <key=value,...>', 'file: path=DIR; shell: list=,lookup=,store=,delete= commands (run by /bin/sh with SECRET_ID set)', collect)
    .option('--env', 'read the data from the environment variable named instead of FILE')
    .option('-l, --label <key=value>', 'set a label', collect)
    .option('--replace', 'replace a secret of the same name (a new id; containers made earlier keep what they had)')
    .option('--ignore', 'leave a secret of the same name as it is and print its id')
    .action(async (name: string, file: string, flags: CreateFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const fromStdin = !flags.env && (file === '-' || file === '/dev/stdin');
      if (fromStdin && process.stdin.isTTY)
        throw new CliError('EUSAGE', 'secret create NAME -: standard input is a terminal: pipe the data in, or give a file');
      const source = flags.env ? { env: file } : fromStdin ? { stream: process.stdin } : { file };
      const record = await engine.secrets.create(name, source, {
        driver: flags.driver,
        driverOpts: flags.driverOpts,
        labels: flags.label,
        replace: flags.replace,
        ignore: flags.ignore,
      });
      printLine(record.ID);
    });

const buildList = (): Command =>
  new Command('ls')
    .alias('list')
    .description('List secrets')
    .option('-f, --filter <key=value>', 'name=REGEX, id=REGEX, driver=, label=KEY[=VALUE] (all must hold)', collect)
    .option('--format <format>', 'json (as inspect shows them), or a Go template over .ID .Name .Driver .CreatedAt .UpdatedAt')
    .option('-n, --noheading', 'do not print the header row')
    .option('-q, --quiet', 'print only ids')
    .action(async (flags: { filter?: string[]; format?: string; noheading?: boolean; quiet?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const secrets = engine.secrets.list(flags.filter);
      if (flags.quiet && flags.format === undefined) return secrets.forEach((s) => printLine(s.ID));
      const format = parseFormat(flags.format);
      if (format.kind === 'json') return printJson(secrets.map(secretJson));
      if (format.kind === 'template') return printTemplate(format.template, secrets.map(listFields));
      const rows = secrets.map(listFields).map((s) => [s.ID, s.Name, s.Driver, s.CreatedAt, s.UpdatedAt]);
      printTable(['ID', 'NAME', 'DRIVER', 'CREATED', 'UPDATED'], rows, { noHeading: flags.noheading });
    });

const buildInspect = (): Command =>
  new Command('inspect')
    .description('Show secrets in detail (never their data)')
    .argument('<secret...>', 'names or ids (or id prefixes)')
    .option('-f, --format <format>', 'json (the default) or a Go template such as {{.Spec.Name}}')
    .option('--pretty', 'print in a human-readable form')
    .action(async (names: string[], flags: { format?: string; pretty?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const reports = names.map((name) => {
        try {
          return { data: engine.secrets.inspect(name) };
        } catch (error) {
          return { error: error as Error };
        }
      });
      const found = reports.flatMap((r) => (r.data ? [r.data] : []));
      const format = parseFormat(flags.format);
      if (flags.pretty) found.forEach((s) => printLine(pretty(s)));
      else if (format.kind === 'template') printTemplate(format.template, found.map(secretJson));
      else printJson(found.map(secretJson));
      reportItems(reports, () => {}, printError);
    });

const buildRm = (): Command =>
  new Command('rm')
    .alias('remove')
    .description('Remove secrets (containers made with one keep their copy; an env secret is needed at each start)')
    .argument('[secret...]', 'names or ids')
    .option('-a, --all', 'remove every secret')
    .option('-i, --ignore', 'no error for a secret that does not exist')
    .action(async (names: string[], flags: { all?: boolean; ignore?: boolean }, cmd: Command) => {
      if (!names.length === !flags.all) throw new CliError('EUSAGE', 'secret rm needs secret names or ids, or --all (not both)');
      const engine = await openEngineFor(cmd);
      const wanted = flags.all ? engine.secrets.list().map((s) => s.ID) : names;
      const reports = [];
      for (const name of wanted) {
        try {
          const removed = await engine.secrets.remove(name, { ignore: flags.ignore });
          if (removed) reports.push({ id: removed });
        } catch (error) {
          reports.push({ id: name, error: error as Error });
        }
      }
      reportItems(reports, (r) => printLine(r.id), printError);
    });

export const build = (): Command =>
  new Command('secret')
    .description('Manage secrets')
    .addCommand(buildCreate())
    .addCommand(buildList())
    .addCommand(buildInspect())
    .addCommand(buildRm())
    .addCommand(buildExists('secret', (engine, name) => engine.secrets.exists(name)));
