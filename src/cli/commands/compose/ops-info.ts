// skiff compose top|port|images|ls|pull|push: what the project's containers run and use, and its
// images to and from registries (src/engine/compose-ops.ts), as docker compose v2 prints them.
import { Command, Option } from 'commander';
import { CliError } from '../../../errors.js';
import { humanSize } from '../../../util/units.js';
import { collect, openEngineFor } from '../../engine.js';
import { printLine } from '../../output/print.js';
import { loadFor } from './compose.js';
import { progress } from './ops.js';

// Columns as Go's tabwriter lays them out: each cell at least `min` wide and `pad` past its text,
// the last one as it is.
const tabbed = (rows: string[][], min: number, pad: number): string => {
  const widths = rows[0].map((_, i) => Math.max(min, ...rows.map((r) => (r[i] ?? '').length + pad)));
  return rows.map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('')}\n`).join('');
};

// docker compose's tables (formatter.PrintPrettySection): cells 20 wide at least, 3 apart.
const prettySection = (headers: string[], rows: string[][]): void => void process.stdout.write(tabbed([headers, ...rows], 20, 3));

const checkFormat = (format: string | undefined): void => {
  if (format !== undefined && format !== 'table' && format !== 'json')
    throw new CliError('EUSAGE', `format value "${format}" could not be parsed: use table or json`, { exitCode: 1 });
};

export const buildTop = (): Command =>
  new Command('top')
    .description('Display the running processes')
    .argument('[services...]')
    .action(async (services: string[], _flags: unknown, cmd: Command) => {
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { top } = await import('../../../engine/compose-ops.js');
      for (const c of await top(engine, project, services))
        process.stdout.write(`${c.name}\n${tabbed([c.titles, ...c.processes], 0, 3).replace(/ +\n/g, '\n')}\n`);
    });

export const buildPort = (): Command =>
  new Command('port')
    .description('Print the public port for a port binding')
    .argument('<service>')
    .argument('<private_port>')
    .addOption(new Option('--protocol <protocol>', 'tcp or udp').default('tcp'))
    .option('--index <n>', 'the replica of the service (default: the first)')
    .action(async (service: string, privatePort: string, flags: { protocol: string; index?: string }, cmd: Command) => {
      const n = Number(privatePort);
      if (!(Number.isInteger(n) && n > 0 && n < 65536))
        throw new CliError('EUSAGE', `invalid port "${privatePort}": give a container port number`, { exitCode: 1 });
      const replica = Number(flags.index ?? 0);
      if (!(Number.isInteger(replica) && replica >= 0)) throw new CliError('EUSAGE', `--index ${flags.index}: give a replica number (1, 2, …)`);
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { port } = await import('../../../engine/compose-ops.js');
      printLine(port(engine, project, service, n, { protocol: flags.protocol.toLowerCase(), index: replica }));
    });

export const buildImages = (): Command =>
  new Command('images')
    .description('List the images used by the created containers')
    .argument('[services...]')
    .option('-q, --quiet', 'only the image ids')
    .option('--format <format>', 'table (the default) or json')
    .action(async (services: string[], flags: { quiet?: boolean; format?: string }, cmd: Command) => {
      checkFormat(flags.format);
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { images } = await import('../../../engine/compose-ops.js');
      const rows = images(engine, project, services);
      const bare = (id: string) => id.replace(/^sha256:/, '');
      if (flags.quiet) return [...new Set(rows.map((r) => bare(r.id)))].forEach((id) => printLine(id));
      if (flags.format === 'json')
        return printLine(
          JSON.stringify(
            rows.map((r) => ({
              ID: `sha256:${bare(r.id)}`,
              ContainerName: r.container,
              Repository: r.repository,
              Tag: r.tag,
              Size: r.size,
              ...(r.created ? { Created: r.created } : {}),
            })),
          ),
        );
      prettySection(
        ['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'],
        rows.map((r) => [r.container, r.repository || '<none>', r.tag || '<none>', bare(r.id).slice(0, 12), humanSize(r.size).replace(' ', '')]),
      );
    });

export const buildLs = (): Command =>
  new Command('ls')
    .description('List running compose projects')
    .option('-a, --all', 'also the projects whose containers are all stopped')
    .option('-q, --quiet', 'only the project names')
    .option('--filter <name=VALUE>', 'only the projects whose name matches (name=REGEXP)', collect)
    .option('--format <format>', 'table (the default) or json')
    .action(async (flags: { all?: boolean; quiet?: boolean; filter?: string[]; format?: string }, cmd: Command) => {
      checkFormat(flags.format);
      const names: string[] = [];
      for (const f of flags.filter ?? []) {
        const [key, ...value] = f.split('=');
        if (key !== 'name') throw new CliError('EUSAGE', `invalid filter '${key}'`, { exitCode: 1 });
        names.push(value.join('='));
      }
      const engine = await openEngineFor(cmd);
      const { list } = await import('../../../engine/compose-ops.js');
      const matches = (name: string) =>
        names.some((n) => {
          if (n === name) return true;
          try {
            return new RegExp(n).test(name);
          } catch {
            return false;
          }
        });
      const projects = list(engine, { all: flags.all }).filter((p) => !names.length || matches(p.Name));
      if (flags.quiet) return projects.forEach((p) => printLine(p.Name));
      if (flags.format === 'json') return printLine(JSON.stringify(projects));
      prettySection(
        ['NAME', 'STATUS', 'CONFIG FILES'],
        projects.map((p) => [p.Name, p.Status, p.ConfigFiles]),
      );
    });

export const buildPull = (): Command =>
  new Command('pull')
    .description("Pull the services' images")
    .argument('[services...]')
    .option('-q, --quiet', 'pull without printing progress')
    .option('--ignore-pull-failures', 'pull what can be pulled and report the failures')
    .option('--include-deps', 'also the services they depend on')
    .action(async (services: string[], flags: { quiet?: boolean; ignorePullFailures?: boolean; includeDeps?: boolean }, cmd: Command) => {
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { pull } = await import('../../../engine/compose-ops.js');
      await pull(
        engine,
        project,
        services,
        { ignoreFailures: flags.ignorePullFailures, includeDeps: flags.includeDeps },
        flags.quiet ? () => undefined : progress,
      );
    });

export const buildPush = (): Command =>
  new Command('push')
    .description('Push the images the services build')
    .argument('[services...]')
    .option('-q, --quiet', 'push without printing progress')
    .option('--ignore-push-failures', 'push what can be pushed and report the failures')
    .action(async (services: string[], flags: { quiet?: boolean; ignorePushFailures?: boolean }, cmd: Command) => {
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { push } = await import('../../../engine/compose-ops.js');
      await push(engine, project, services, { ignoreFailures: flags.ignorePushFailures }, flags.quiet ? () => undefined : progress);
    });
