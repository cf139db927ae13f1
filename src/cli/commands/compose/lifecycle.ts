// skiff compose up|down|ps|logs|build: the project's containers through the engine
// (src/engine/compose.ts, compose-logs.ts, compose-build.ts), printed as docker compose v2 prints them.
import { Command, Option } from 'commander';
import type { Project } from '../../../compose/model.js';
import type { ServiceBuildEvent } from '../../../engine/compose-build.js';
import type { DownEvent, UpNotice, UpReport } from '../../../engine/compose.js';
import { LogFormatter, type LogSource } from '../../../engine/compose-logs.js';
import { command, portsText, stateName, statusText } from '../../../engine/container-reports.js';
import type { Engine, LogEntry } from '../../../engine/index.js';
import { CliError } from '../../../errors.js';
import { parseTime } from '../../../util/time.js';
import { timeAgo } from '../../../util/units.js';
import { collect, openEngineFor } from '../../engine.js';
import { printLine, printTable } from '../../output/print.js';
import { loadFor } from './compose.js';

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

// docker compose's progress lines, on standard error: " ✔ Container web-1  Started"; warnings as
// its "WARN[0000] …"; build steps as `skiff build` prints them (not with quietBuild).
const progress =
  (quietBuild = false) =>
  (e: UpNotice | DownEvent): void => {
    if ('warning' in e) return void process.stderr.write(`WARN[0000] ${e.warning}\n`);
    if ('build' in e) return void buildPrinter(quietBuild)(e);
    process.stderr.write(` ✔ ${e.object} ${e.name}  ${e.action}\n`);
  };

const buildPrinter =
  (quiet: boolean) =>
  ({ service, build: e }: ServiceBuildEvent): void => {
    if (quiet) return;
    const stage = (s: { stage: number; stages: number }) => (s.stages > 1 ? `[${s.stage}/${s.stages}] ` : '');
    const out = (text: string) => process.stderr.write(text);
    if (e.kind === 'step') out(`[${service}] ${stage(e)}STEP ${e.step}/${e.steps}: ${e.text}\n`);
    else if (e.kind === 'cache') out(`[${service}] --> Using cache ${short(e.id)}\n`);
    else if (e.kind === 'layer') out(`[${service}] --> ${short(e.id)}\n`);
    else if (e.kind === 'output') out(e.text);
    else if (e.kind === 'warning') out(`WARNING: ${e.message}\n`);
  };

const refuse = (flag: string, why: string): never => {
  throw new CliError('EUSAGE', `${flag}: ${why}`);
};

const seconds = (flag: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= 0)) refuse(`${flag} ${value}`, 'give a whole number of seconds');
  return n;
};

// KEY=VALUE (or a bare KEY) flags as a map.
const buildArgs = (list: string[] = []): Record<string, string | null> =>
  Object.fromEntries(list.map((a) => (a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, null])));

// A failed service: its last log lines on standard error, then the error itself.
const reportFailure = async <T>(run: () => Promise<T>): Promise<T> => {
  try {
    return await run();
  } catch (e) {
    const { ServiceFailure } = await import('../../../engine/compose.js');
    if (e instanceof ServiceFailure && e.lines.length) {
      process.stderr.write(`${e.service} last output:\n`);
      for (const l of e.lines) process.stderr.write(`  ${e.service}  | ${l}\n`);
    }
    throw e;
  }
};

// An option named --no-X that takes values (commander would read it as the negation of --X).
const valueOption = (flags: string, description: string, attribute: string): Option => {
  const o = new Option(flags, description).argParser(collect);
  o.negate = false;
  o.attributeName = () => attribute;
  return o;
};

interface UpFlags {
  detach?: boolean;
  build?: boolean;
  pull?: string;
  recreate?: boolean;
  forceRecreate?: boolean;
  removeOrphans?: boolean;
  wait?: boolean;
  waitTimeout?: string;
  scale?: string[];
  abortOnContainerExit?: boolean;
  exitCodeFrom?: string;
  attach?: string[];
  noAttach?: string[];
  color?: boolean;
  logPrefix?: boolean;
  timestamps?: boolean;
  start?: boolean;
  timeout?: string;
  deps?: boolean;
  quietPull?: boolean;
  quietBuild?: boolean;
  attachDependencies?: boolean;
  abortOnContainerFailure?: boolean;
  alwaysRecreateDeps?: boolean;
  watch?: boolean;
}

export const buildUp = (): Command =>
  new Command('up')
    .description('Create and start the services (in the foreground, showing their output, unless -d)')
    .argument('[service...]', 'only these services (and what they depend on)')
    .option('-d, --detach', 'run in the background')
    .option('--build', 'build the images of services with build: before starting')
    .option('--no-build', "don't build images: a service whose image is missing fails")
    .addOption(
      new Option('--pull <policy>', "pull images: always, missing or never (over pull_policy; policy, the default: each service's)").choices([
        'always',
        'missing',
        'never',
        'policy',
      ]),
    )
    .option('--force-recreate', 'recreate the containers even if their configuration has not changed')
    .option('--no-recreate', 'keep existing containers even if their configuration changed')
    .option('--remove-orphans', 'remove containers of services no longer in the files')
    .option('--wait', 'wait for the services to be running and healthy (implies -d)')
    .option('--wait-timeout <seconds>', 'with --wait: how long to wait')
    .option('--scale <service=n>', 'run N containers of a service (repeatable; over scale: and deploy.replicas)', collect)
    .option('--abort-on-container-exit', 'stop every container when one exits')
    .option('--exit-code-from <service>', "exit with this service's container's code (implies --abort-on-container-exit)")
    .option('--attach <service>', "show only these services' output (repeatable)", collect)
    .addOption(valueOption('--no-attach <service>', "don't show this service's output (repeatable)", 'noAttach'))
    .option('--attach-dependencies', 'with up SVC…: show (and wait for) the output of what they depend on too')
    .option('--no-color', 'no colours in the output')
    .option('--no-log-prefix', 'no "SERVICE-N | " before each line')
    .option('--timestamps', 'prefix each line with its time')
    .option('--no-start', "create the containers but don't start them")
    .option('-t, --timeout <seconds>', 'seconds a container gets to stop (recreated, scaled away or on Ctrl-C)')
    .option('--no-deps', "don't start the services the named ones depend on")
    .option('--quiet-pull', 'pull without progress (skiff prints none)')
    .option('--quiet-build', "don't print the builds' output")
    .option('--abort-on-container-failure', 'stop every container when one exits with a non-zero code')
    .option('--always-recreate-deps', 'recreate the containers of the services the named ones depend on')
    .option('-V, --renew-anon-volumes', 'new anonymous volumes for recreated containers (always: skiff does not carry them over)')
    .option('-w, --watch', 'refused: skiff compose does not watch files yet')
    .option('--menu', "accepted: skiff's foreground up has no interactive shortcuts")
    .option('-y, --yes', 'accepted: up asks no questions')
    .action(async (services: string[], flags: UpFlags, cmd: Command) => {
      if (flags.forceRecreate && flags.recreate === false) refuse('--force-recreate', 'cannot be used with --no-recreate');
      if (flags.exitCodeFrom) flags.abortOnContainerExit = true;
      const detach = Boolean(flags.detach || flags.wait);
      if (detach && flags.abortOnContainerExit) refuse('--abort-on-container-exit', 'cannot be used with --detach (or --wait)');
      if (detach && flags.abortOnContainerFailure) refuse('--abort-on-container-failure', 'cannot be used with --detach (or --wait)');
      if (flags.abortOnContainerExit && flags.abortOnContainerFailure) refuse('--abort-on-container-failure', 'cannot be used with --abort-on-container-exit');
      if (flags.alwaysRecreateDeps && flags.recreate === false) refuse('--always-recreate-deps', 'cannot be used with --no-recreate');
      if (flags.attachDependencies && flags.attach?.length) refuse('--attach', 'cannot be used with --attach-dependencies');
      if (flags.watch) refuse('--watch', 'skiff compose does not watch files yet: rebuild and recreate with up --build');
      if (detach && flags.attach?.length) refuse('--attach', 'cannot be used with --detach (or --wait)');
      const waitTimeout = seconds('--wait-timeout', flags.waitTimeout);
      const timeout = seconds('--timeout', flags.timeout);
      const scale: Record<string, number> = {};
      for (const s of flags.scale ?? []) {
        const m = /^([^=]+)=(\d+)$/.exec(s);
        if (!m) refuse(`--scale ${s}`, 'use SERVICE=NUMBER');
        scale[m![1]] = Number(m![2]);
      }
      const { project } = await loadFor(cmd);
      if (flags.exitCodeFrom && !(flags.exitCodeFrom in project.services)) refuse(`--exit-code-from ${flags.exitCodeFrom}`, 'no such service');
      for (const s of [...(flags.attach ?? []), ...(flags.noAttach ?? [])]) if (!(s in project.services)) refuse(`--attach ${s}`, 'no such service');
      const engine = await openEngineFor(cmd);
      const { up, waitRunning, stopContainers, projectContainers } = await import('../../../engine/compose.js');
      // Ctrl-C while a foreground up creates: the project is stopped once up is done (a second one
      // leaves at once; down cleans up what was made).
      // (Inside the namespace first: the parent that re-runs the command there only forwards signals.)
      await engine.enterUserNamespace();
      let early = 0;
      const onEarly = () => {
        if (++early > 1) process.exit(130);
        process.stderr.write('Gracefully stopping... (press Ctrl+C again to force)\n');
      };
      if (!detach) {
        process.on('SIGINT', onEarly);
        process.on('SIGTERM', onEarly);
      }
      const made = reportFailure(() =>
        up(
          engine,
          project,
          {
            services,
            noDeps: flags.deps === false,
            scale,
            recreate: flags.forceRecreate ? 'force' : flags.recreate === false ? 'never' : 'diverged',
            recreateDependencies: flags.recreate === false ? 'never' : flags.alwaysRecreateDeps ? 'force' : 'diverged',
            removeOrphans: flags.removeOrphans,
            ...(flags.pull && flags.pull !== 'policy' ? { pull: flags.pull as 'always' | 'missing' | 'never' } : {}),
            build: flags.build === true ? 'force' : flags.build === false ? 'never' : 'auto',
            noStart: flags.start === false,
            timeout,
            buildOptions: {},
          },
          progress(Boolean(flags.quietBuild)),
        ),
      );
      const report = await made.finally(() => {
        process.off('SIGINT', onEarly);
        process.off('SIGTERM', onEarly);
      });
      if (early) {
        const ids = new Set(report.containers.map((c) => c.id));
        await stopContainers(
          engine,
          project,
          projectContainers(engine, project.name).filter((r) => ids.has(r.record.id)),
          timeout,
          progress(),
        );
        process.exitCode = 130;
        return;
      }
      if (flags.start === false) return;
      if (flags.wait) await reportFailure(() => waitRunning(engine, project, report, waitTimeout, progress()));
      if (detach) return;
      process.exitCode = await foreground(engine, project, report, services, flags, timeout);
    });

// A foreground `up`: the attached containers' output, prefixed, until they have all exited (with
// `up SVC…` the named services are attached, not what they depend on, unless
// --attach-dependencies; --attach and --no-attach choose); Ctrl-C stops the project ("Gracefully
// stopping..."), a second one kills it. The exit code: the --exit-code-from service's, or the first
// exited (failed) container's with --abort-on-container-exit (-failure), else 0 (after Ctrl-C too).
const foreground = async (
  engine: Engine,
  project: Project,
  report: UpReport,
  named: string[],
  flags: UpFlags,
  timeout: number | undefined,
): Promise<number> => {
  const { followLogs, shortName } = await import('../../../engine/compose-logs.js');
  const { currentRun, killContainers, restartsAgain, stopContainers, projectContainers } = await import('../../../engine/compose.js');
  const attached = flags.attach?.length ? flags.attach : named.length && !flags.attachDependencies ? named : undefined;
  const shown = report.containers.filter((c) => (!attached || attached.includes(c.service)) && !(flags.noAttach ?? []).includes(c.service));
  // What is waited for: the attached containers (all when none is), and the --exit-code-from service's.
  const watched = report.containers.filter((c) => shown.includes(c) || !shown.length || c.service === flags.exitCodeFrom);
  const names = report.containers.map((c) => shortName(project.name, c.name));
  const format = new LogFormatter(names, {
    color: flags.color !== false && Boolean(process.stdout.isTTY),
    prefix: flags.logPrefix !== false,
    timestamps: Boolean(flags.timestamps),
  });
  process.stdout.write(`Attaching to ${shown.map((c) => shortName(project.name, c.name)).join(', ')}\n`);
  const write = (source: LogSource, entry: LogEntry) => (entry.stream === 'stderr' ? process.stderr : process.stdout).write(format.line(source.name, entry));
  let stopping: Promise<void> | undefined;
  let interrupted = false;
  let abortCode: number | undefined;
  const rows = () => projectContainers(engine, project.name).filter((r) => report.containers.some((c) => c.id === r.record.id));
  const stopAll = (message: string) => {
    if (stopping) return;
    process.stderr.write(`${message}\n`);
    stopping = stopContainers(engine, project, rows(), timeout, progress()).catch((e: Error) => void process.stderr.write(`Error: ${e.message}\n`));
  };
  let lastSignal = 0;
  const onSignal = () => {
    const now = Date.now();
    // (On a terminal the namespace's parent forwards the same Ctrl-C: one press within 300 ms.)
    if (interrupted && now - lastSignal > 300) {
      process.stderr.write('Killing...\n');
      killContainers(engine, rows());
      return;
    }
    if (!interrupted) lastSignal = now;
    interrupted = true;
    stopAll('Gracefully stopping... (press Ctrl+C again to force)');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await Promise.all(
      watched.map(async (c) => {
        const source = { id: c.id, name: shortName(project.name, c.name) };
        let query: { tail?: number; since?: number } = c.fresh ? {} : { tail: 0 };
        // (The time of the last line shown: a run after it starts where it ended.)
        let last = Date.now();
        const shownEntry = (s: LogSource, e: LogEntry) => {
          last = Date.parse(e.time);
          write(s, e);
        };
        let run = currentRun(engine, c.id);
        for (;;) {
          if (shown.includes(c)) await followLogs(engine, source, query, shownEntry);
          const code = await engine.containers.wait(c.id);
          if (shown.includes(c)) process.stdout.write(format.status(source.name, `exited with code ${code}`));
          // The first exit (--abort-on-container-failure: the first failure) stops the rest.
          const cascade = flags.abortOnContainerExit || (flags.abortOnContainerFailure && code !== 0);
          if (cascade && !interrupted && abortCode === undefined) {
            abortCode = code;
            stopAll('Aborting on container exit...');
          }
          // Brought back by its restart policy: followed again, as docker compose does.
          // (A quick one may have run and exited again meanwhile: its output is read from the last line on.)
          const next = await restartsAgain(engine, c.id, run, () => stopping !== undefined);
          if (!next) return;
          run = next;
          query = { since: last + 1 };
        }
      }),
    );
    await stopping;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (flags.exitCodeFrom) {
    const c = report.containers.find((x) => x.service === flags.exitCodeFrom);
    return c ? await engine.containers.wait(c.id) : 0;
  }
  // (Stopped by Ctrl-C or SIGTERM: 0, as docker compose.)
  return abortCode ?? 0;
};

export const buildDown = (): Command =>
  new Command('down')
    .description("Stop and remove the project's containers and networks")
    .option('-v, --volumes', 'remove its named volumes too')
    .option('-t, --timeout <seconds>', 'seconds to wait for each container to stop before killing it')
    .addOption(new Option('--rmi <which>', "remove images: local (the ones built without image:) or all (every service's)").choices(['local', 'all']))
    .option('--remove-orphans', 'remove containers of services no longer in the files too')
    .action(async (flags: { volumes?: boolean; timeout?: string; rmi?: 'local' | 'all'; removeOrphans?: boolean }, cmd: Command) => {
      const timeout = seconds('--timeout', flags.timeout);
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { down } = await import('../../../engine/compose.js');
      await down(engine, project, { volumes: flags.volumes, timeout, rmi: flags.rmi, removeOrphans: flags.removeOrphans }, progress());
    });

// docker's Ellipsis (not with --no-trunc): a longer text cut to max-1 characters and "…".
const ellipsis = (text: string, max: number): string => ([...text].length > max ? `${[...text].slice(0, max - 1).join('')}…` : text);

// Go's time.Time String() of a creation time, as docker compose's CreatedAt: "2026-12-08 01:04:01 +0000 UTC".
const goTime = (iso: string): string => `${new Date(iso).toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;

const STATUSES = ['paused', 'restarting', 'removing', 'running', 'dead', 'created', 'exited'];

export const buildPs = (): Command =>
  new Command('ps')
    .description("List the project's containers")
    .argument('[service...]', 'only these services')
    .option('-a, --all', 'stopped ones too')
    .option('-q, --quiet', 'only ids')
    .option('--services', 'only service names')
    .option('--status <status>', `only containers in this state (repeatable: ${STATUSES.join(', ')})`, collect)
    .option('--filter <filter>', 'status=STATE (repeatable)', collect)
    .option('--format <format>', 'table (the default) or json')
    .option('--no-trunc', "don't truncate the command")
    .option('--no-orphans', 'leave out containers of services no longer in the files')
    .action(
      async (
        services: string[],
        flags: {
          all?: boolean;
          quiet?: boolean;
          services?: boolean;
          format?: string;
          status?: string[];
          filter?: string[];
          trunc?: boolean;
          orphans?: boolean;
        },
        cmd: Command,
      ) => {
        if (flags.format && flags.format !== 'table' && flags.format !== 'json') refuse(`--format ${flags.format}`, 'use table or json');
        const statuses = [...(flags.status ?? [])];
        for (const f of flags.filter ?? []) {
          const m = /^status=(.+)$/.exec(f);
          if (!m) refuse(`--filter ${f}`, 'only status=STATE is supported, as docker compose');
          statuses.push(m![1]);
        }
        for (const s of statuses) if (!STATUSES.includes(s)) refuse(`--status ${s}`, `use one of ${STATUSES.join(', ')}`);
        const { project } = await loadFor(cmd);
        for (const s of services) if (!(s in project.services)) refuse(s, 'no such service');
        const engine = await openEngineFor(cmd);
        const { projectContainers, orphansOf, SERVICE_LABEL } = await import('../../../engine/compose.js');
        const all = projectContainers(engine, project.name);
        const orphans = flags.orphans === false ? orphansOf(project, all) : [];
        const trunc = (text: string, max: number) => (flags.trunc === false ? text : ellipsis(text, max));
        const rows = all
          .filter((r) => !orphans.includes(r))
          .filter((r) => !services.length || services.includes(r.record.config.labels[SERVICE_LABEL]))
          .filter((r) => (statuses.length ? statuses.includes(stateName(r.state)) : flags.all || r.state.status === 'running' || r.state.status === 'stopping'))
          .sort((a, b) => a.record.name.localeCompare(b.record.name));
        if (flags.quiet) return rows.forEach((r) => printLine(r.record.id));
        if (flags.services) return [...new Set(rows.map((r) => r.record.config.labels[SERVICE_LABEL]))].forEach((s) => printLine(s));
        if (flags.format === 'json') {
          for (const r of rows)
            printLine(
              JSON.stringify({
                Command: JSON.stringify(trunc(command(r.record).join(' '), 20)),
                CreatedAt: goTime(r.record.created),
                ExitCode: r.state.exitCode ?? 0,
                Health: r.health?.Status ?? '',
                ID: flags.trunc === false ? r.record.id : r.record.id.slice(0, 12),
                Image: r.record.image,
                Labels: Object.entries(r.record.config.labels)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(','),
                LocalVolumes: String((r.record.config.mounts ?? []).filter((m) => m.type === 'volume').length),
                Mounts: (r.record.config.mounts ?? []).map((m) => trunc(m.source, 15)).join(','),
                Name: r.record.name,
                Names: r.record.name,
                Networks: [r.record.config.network, ...(r.record.config.extraNetworks ?? []).map((n) => n.network)].join(','),
                Ports: portsText(r.record),
                Project: project.name,
                Publishers: (r.record.config.ports ?? []).map((p) => ({
                  URL: p.hostIp,
                  TargetPort: p.containerPort,
                  PublishedPort: p.hostPort,
                  Protocol: p.protocol,
                })),
                RunningFor: timeAgo(r.record.created),
                Service: r.record.config.labels[SERVICE_LABEL],
                Size: '0B',
                State: stateName(r.state),
                Status: statusText(r),
              }),
            );
          return;
        }
        printTable(
          ['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'],
          rows.map((r) => {
            const c = command(r.record).join(' ');
            return [
              r.record.name,
              r.record.image,
              JSON.stringify(trunc(c, 20)),
              r.record.config.labels[SERVICE_LABEL],
              timeAgo(r.record.created),
              statusText(r),
              portsText(r.record),
            ];
          }),
        );
      },
    );

interface LogsFlags {
  follow?: boolean;
  tail?: string;
  timestamps?: boolean;
  color?: boolean;
  logPrefix?: boolean;
  since?: string;
  until?: string;
  index?: string;
}

export const buildLogs = (): Command =>
  new Command('logs')
    .description("Show the services' output")
    .argument('[service...]', 'only these services')
    .option('-f, --follow', 'keep printing new output until the containers stop')
    .option('-n, --tail <lines>', 'only the last N lines of each container (all: everything)')
    .option('-t, --timestamps', 'prefix each line with its time')
    .option('--no-color', 'no colours')
    .option('--no-log-prefix', 'no "SERVICE-N | " before each line')
    .option('--since <time>', 'only output since this time (timestamp, or a duration such as 10m)')
    .option('--until <time>', 'only output until this time')
    .option('--index <n>', "only this replica's output")
    .action(async (services: string[], flags: LogsFlags, cmd: Command) => {
      const tail = flags.tail === undefined || flags.tail === 'all' ? undefined : Number(flags.tail);
      if (tail !== undefined && !Number.isInteger(tail)) refuse(`--tail ${flags.tail}`, 'give a number of lines, or all');
      const since = flags.since ? parseTime(flags.since, '--since') : undefined;
      const until = flags.until ? parseTime(flags.until, '--until') : undefined;
      const index = flags.index === undefined ? undefined : Number(flags.index);
      const { project } = await loadFor(cmd);
      for (const s of services) if (!(s in project.services) && !(project.disabled && s in project.disabled)) refuse(s, 'no such service');
      const engine = await openEngineFor(cmd);
      const { projectContainers, SERVICE_LABEL, NUMBER_LABEL } = await import('../../../engine/compose.js');
      const { readLogs, shortName } = await import('../../../engine/compose-logs.js');
      const sources = projectContainers(engine, project.name, false)
        .filter((r) => !services.length || services.includes(r.record.config.labels[SERVICE_LABEL]))
        .filter((r) => index === undefined || Number(r.record.config.labels[NUMBER_LABEL]) === index)
        .map((r) => ({ id: r.record.id, name: shortName(project.name, r.record.name) }));
      const format = new LogFormatter(
        sources.map((s) => s.name),
        { color: flags.color !== false && Boolean(process.stdout.isTTY), prefix: flags.logPrefix !== false, timestamps: Boolean(flags.timestamps) },
      );
      await readLogs(engine, sources, { tail, since, until, follow: flags.follow }, (source, entry) =>
        (entry.stream === 'stderr' ? process.stderr : process.stdout).write(format.line(source.name, entry)),
      );
    });

interface BuildFlags {
  cache?: boolean;
  pull?: boolean;
  buildArg?: string[];
  quiet?: boolean;
  withDependencies?: boolean;
  memory?: string;
  push?: boolean;
  ssh?: string;
  builder?: string;
  check?: boolean;
  print?: boolean;
  provenance?: string;
  sbom?: string;
}

const BUILD_REFUSED: Record<string, string> = {
  push: 'not supported by compose build yet: push the built images with compose push',
  ssh: 'RUN --mount=type=ssh is not supported yet',
  builder: 'skiff builds with its own engine: there is no other builder to choose',
  check: 'build checks are not supported yet',
  print: 'skiff has no bake file to print',
  provenance: 'skiff writes no attestations yet',
  sbom: 'skiff writes no attestations yet',
};

export const buildBuild = (): Command =>
  new Command('build')
    .description('Build the images of services with a build: section')
    .argument('[service...]', 'only these services')
    .option('--no-cache', "don't use cached steps")
    .option('--pull', 'always pull a newer version of the base images')
    .option('--build-arg <key=value>', 'a build argument (repeatable; a bare KEY takes its value from the environment)', collect)
    .option('-q, --quiet', "don't print the build's output")
    .option('--with-dependencies', 'build what the named services depend on too')
    .option('-m, --memory <bytes>', "memory limit for the builds' RUN steps (512m, 1g)")
    .option('--push', 'refused: push the built images with compose push')
    .option('--ssh <spec>', 'refused: RUN --mount=type=ssh is not supported yet')
    .option('--builder <name>', 'refused: skiff builds with its own engine (there is no other builder)')
    .option('--check', 'refused: not supported yet')
    .option('--print', 'refused: skiff has no bake file to print')
    .option('--provenance <spec>', 'refused: skiff writes no attestations yet')
    .option('--sbom <spec>', 'refused: skiff writes no attestations yet')
    .action(async (services: string[], flags: BuildFlags, cmd: Command) => {
      for (const [flag, set] of Object.entries({
        push: flags.push,
        ssh: flags.ssh,
        builder: flags.builder,
        check: flags.check,
        print: flags.print,
        provenance: flags.provenance,
        sbom: flags.sbom,
      }))
        if (set !== undefined) refuse(`--${flag}`, BUILD_REFUSED[flag]);
      const { project } = await loadFor(cmd);
      if (flags.withDependencies && services.length) {
        const { selectServices } = await import('../../../engine/compose.js');
        services = selectServices(project, services);
      }
      const engine = await openEngineFor(cmd);
      const { buildServices } = await import('../../../engine/compose-build.js');
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      try {
        const built = await buildServices(
          engine,
          project,
          services,
          {
            noCache: flags.cache === false,
            pull: flags.pull,
            buildArgs: buildArgs(flags.buildArg),
            signal: controller.signal,
            ...(flags.memory ? { memory: flags.memory } : {}),
          },
          buildPrinter(Boolean(flags.quiet)),
        );
        for (const b of built) if (!flags.quiet) process.stderr.write(` ✔ Service ${b.service}  Built (${b.image}, ${short(b.id)})\n`);
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    });
