// skiff compose exec|run|create|wait|version: commands on one service's containers, over the engine's
// compose-ops (src/engine/compose-ops.ts), with docker compose v2's flags, output and exit codes.
import { Command, Option } from 'commander';
import { CliError } from '../../../errors.js';
import { VERSION } from '../../../version.js';
import { collect, openEngineFor } from '../../engine.js';
import { printLine } from '../../output/print.js';
import { loadFor } from './compose.js';

// docker compose's progress lines, on standard error: " ✔ Container web-1  Started", " ✔ web Pulled".
export const progress = (e: { object: string; name: string; action: string }): void => {
  if (e.object === 'Service') process.stderr.write(` ${e.action.startsWith('Error') ? '!' : '✔'} ${e.name} ${e.action}\n`);
  else process.stderr.write(` ✔ ${e.object} ${e.name}  ${e.action}\n`);
};

// A whole number of seconds (-t/--timeout), or a usage error naming the flag.
export const seconds = (flag: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= 0)) throw new CliError('EUSAGE', `${flag} ${value}: give a whole number of seconds`);
  return n;
};

const index = (value: string | undefined): number => {
  const n = Number(value ?? 0);
  if (!(Number.isInteger(n) && n >= 0)) throw new CliError('EUSAGE', `--index ${value}: give a replica number (1, 2, …)`);
  return n;
};

// Compose allocates a terminal by default when it has one (-T turns it off, -t asks for it).
const wantsTty = (flag: boolean | undefined): boolean => flag ?? (process.stdout.isTTY === true && process.stdin.isTTY === true);

interface ExecFlags {
  detach?: boolean;
  tty?: boolean;
  env?: string[];
  user?: string;
  workdir?: string;
  index?: string;
  privileged?: boolean;
}

export const buildExec = (): Command =>
  new Command('exec')
    .description("Execute a command in a running service's container")
    .argument('<service>')
    .argument('<command...>')
    .passThroughOptions()
    .option('-d, --detach', 'run the command in the background')
    .option('-t, --tty', 'allocate a pseudo-terminal (the default on a terminal)')
    .option('-T, --no-tty', "don't allocate a pseudo-terminal")
    .option('-i, --interactive', 'keep standard input open (the default)')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable', collect)
    .option('-u, --user <user>', 'run as this user')
    .option('-w, --workdir <dir>', 'working directory of the command')
    .option('--index <n>', 'the replica of the service (default: the first)')
    .option('--privileged', "accepted: a rootless container's process has no privileges beyond the container's own to give")
    .action(async (service: string, command: string[], flags: ExecFlags, cmd: Command) => {
      const replica = index(flags.index);
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { exec } = await import('../../../engine/compose-ops.js');
      const tty = !flags.detach && wantsTty(flags.tty);
      process.exitCode = await exec(engine, project, service, replica, {
        command,
        detach: flags.detach,
        tty,
        interactive: !flags.detach,
        env: flags.env,
        user: flags.user,
        workdir: flags.workdir,
        privileged: flags.privileged,
        stderr: (chunk) => process.stderr.write(chunk),
      });
    });

interface RunFlags {
  detach?: boolean;
  rm?: boolean;
  env?: string[];
  label?: string[];
  entrypoint?: string;
  user?: string;
  workdir?: string;
  volume?: string[];
  publish?: string[];
  servicePorts?: boolean;
  useAliases?: boolean;
  noDeps?: boolean;
  deps: boolean;
  name?: string;
  tty?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  pull: string;
  quietPull?: boolean;
  build?: boolean;
  removeOrphans?: boolean;
}

export const buildRun = (): Command =>
  new Command('run')
    .description('Run a one-off command on a service')
    .argument('<service>')
    .argument('[command...]')
    .passThroughOptions()
    .option('-d, --detach', 'run the container in the background and print its id')
    .option('--rm', 'remove the container when it exits')
    .option('-e, --env <KEY[=VALUE]>', 'set an environment variable', collect)
    .option('-l, --label <KEY=VALUE>', 'add or override a label', collect)
    .option('--entrypoint <command>', "override the image's entrypoint (split as a shell would)")
    .option('-u, --user <user>', 'run as this user')
    .option('-w, --workdir <dir>', 'working directory in the container')
    .option('-v, --volume <volume>', 'bind mount a volume', collect)
    .option('-p, --publish <port>', "publish a container's port to the host", collect)
    .option('-P, --service-ports', "publish the service's ports as up does")
    .option('--use-aliases', "join the networks with the service's aliases")
    .option('--no-deps', "don't start the services it depends on")
    .option('--name <name>', 'the container name (default PROJECT-SERVICE-run-<id>)')
    .option('-t, --tty', 'allocate a pseudo-terminal (the default on a terminal)')
    .option('-T, --no-tty', "don't allocate a pseudo-terminal")
    .option('-i, --interactive', 'keep standard input open (the default)')
    .option('--cap-add <cap>', 'add a capability', collect)
    .option('--cap-drop <cap>', 'drop a capability', collect)
    .addOption(new Option('--pull <policy>', 'pull the image first').choices(['always', 'missing', 'never', 'policy']).default('policy'))
    .option('--quiet-pull', 'pull without progress (skiff compose prints none)')
    .option('--build', 'refused: skiff compose does not build images yet')
    .option('--remove-orphans', 'refused: not supported yet (compose down removes them)')
    .action(async (service: string, command: string[], flags: RunFlags, cmd: Command) => {
      if (flags.build) throw new CliError('EUSAGE', '--build: skiff compose does not build images yet; build with skiff build first');
      if (flags.removeOrphans) throw new CliError('EUSAGE', '--remove-orphans: not supported yet; compose down removes every container of the project');
      const { project } = await loadFor(cmd);
      const { splitShell } = await import('../../../compose/shell-words.js');
      const policy = flags.pull === 'policy' ? project.services[service]?.pull_policy : flags.pull;
      const tty = !flags.detach && wantsTty(flags.tty);
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const { prepareRun } = await import('../../../engine/compose-ops.js');
      const record = await prepareRun(
        engine,
        project,
        {
          service,
          command,
          entrypoint: flags.entrypoint === undefined ? undefined : splitShell(flags.entrypoint),
          env: flags.env,
          labels: flags.label,
          user: flags.user,
          workdir: flags.workdir,
          volumes: flags.volume,
          publish: flags.publish,
          servicePorts: flags.servicePorts,
          useAliases: flags.useAliases,
          noDeps: flags.deps === false,
          name: flags.name,
          rm: flags.rm,
          tty,
          interactive: !flags.detach,
          capAdd: flags.capAdd,
          capDrop: flags.capDrop,
          pull: policy === 'always' || policy === 'never' ? policy : 'missing',
        },
        progress,
      );
      if (flags.detach) {
        await engine.containers.start(record.id);
        return printLine(record.id);
      }
      const { attachSession } = await import('../container/attach.js');
      const code = await attachSession(engine, record, { stdin: true, tty, detachKeys: 'ctrl-p,ctrl-q', sigProxy: true }, true);
      if (code !== undefined) process.exitCode = code;
    });

export const buildCreate = (): Command =>
  new Command('create')
    .description("Create the services' containers without starting them")
    .argument('[services...]')
    .action(async (services: string[], _flags: unknown, cmd: Command) => {
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const { create } = await import('../../../engine/compose-ops.js');
      await create(engine, project, services, progress);
    });

export const buildWait = (): Command =>
  new Command('wait')
    .description("Block until the services' containers stop; exit with the last one's code")
    .argument('<services...>')
    .action(async (services: string[], _flags: unknown, cmd: Command) => {
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { wait } = await import('../../../engine/compose-ops.js');
      process.exitCode = await wait(engine, project, services, (id, code) => printLine(`container "${id}" exited with status code ${code}`));
    });

export const buildVersion = (): Command =>
  new Command('version')
    .description('Show the skiff compose version')
    .addOption(new Option('-f, --format <format>', 'pretty (the default) or json').choices(['pretty', 'json']))
    .option('--short', 'only the version number')
    .action((flags: { format?: string; short?: boolean }) => {
      if (flags.short) return printLine(VERSION);
      if (flags.format === 'json') return printLine(JSON.stringify({ version: `v${VERSION}` }));
      printLine(`skiff compose version v${VERSION}`);
    });
