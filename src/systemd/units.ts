// `generate systemd`: a user unit that runs a container as a service, as Podman's generator makes
// them, for skiff. Type=notify with the monitor as the main process (it says MAINPID and READY=1:
// --sdnotify=conmon), NotifyAccess=all, KillMode=mixed, Delegate=yes (a container the unit creates
// gets its cgroup inside the unit's), ExecStop/ExecStopPost that stop it (and with --new remove
// it), the restart policy as Restart=. With --new the unit creates the container itself from the
// command line that made it (Podman's CreateCommand), so the file is all another machine needs.
import { CliError } from '../errors.js';
import { GLOBAL_VALUE_OPTIONS } from '../rootless/enter.js';
import type { ContainerRecord } from '../state/containers.js';
import { escapeWord } from './unit-file.js';

export interface UnitOptions {
  /** Name the unit and the container by the container's name, not its id. */
  name?: boolean;
  new?: boolean;
  restartPolicy?: string;
  restartSec?: number;
  startTimeout?: number;
  stopTimeout?: number;
  containerPrefix: string;
  separator: string;
  header: boolean;
  after: string[];
  wants: string[];
  requires: string[];
  /** KEY=VALUE lines for the unit's environment. */
  env: string[];
}

export interface UnitSetting {
  /** skiff's absolute path (the launcher). */
  skiff: string;
  version: string;
  now: Date;
  /** skiff's stores, which the unit needs mounted. */
  dataDir: string;
  runDir: string;
  /** run's flags (long and short names) and whether each takes a value: to read CreateCommand. */
  flags: Map<string, 'none' | 'value' | 'optional'>;
}

export interface Unit {
  name: string;
  text: string;
}

const POLICIES = ['no', 'on-success', 'on-failure', 'on-abnormal', 'on-watchdog', 'on-abort', 'always'];

// One word of a command line (or with `exec` false, of an Environment= or path value) as systemd
// reads it back exactly: C escapes for control characters and quotes, '%' doubled (a specifier
// otherwise), and in a command line '$' doubled (a variable otherwise).
export const systemdWord = (word: string, exec = true): string => {
  const literal = word.replaceAll('%', '%%');
  return escapeWord(exec ? literal.replaceAll('$', () => '$$') : literal);
};

// A command line for an Exec*= key, each word as systemd reads it back.
export const systemdCommand = (words: string[]): string => words.map((w) => systemdWord(w)).join(' ');

const command = systemdCommand;

// The global options (with their values) of a recorded command line, and its command word (run or
// create; `container run` as run); `next`: where its own arguments start.
const commandOf = (createCommand: string[]): { globals: string[]; verb: 'run' | 'create'; next: number } => {
  const globals: string[] = [];
  let i = 1;
  for (; i < createCommand.length && createCommand[i].startsWith('-'); i++) {
    globals.push(createCommand[i]);
    if (GLOBAL_VALUE_OPTIONS.includes(createCommand[i]) && i + 1 < createCommand.length) globals.push(createCommand[++i]);
  }
  if (createCommand[i] === 'container') i++;
  const verb = createCommand[i];
  if (verb !== 'run' && verb !== 'create') throw new CliError('EUSAGE', `cannot read the command that made the container: ${createCommand.join(' ')}`);
  return { globals, verb, next: i + 1 };
};

// run or create: what made the container.
export const createVerb = (createCommand: string[]): 'run' | 'create' => commandOf(createCommand).verb;

// The container's `run` (or `create`) arguments without what the unit decides itself: detach,
// --rm, --replace, --name, --cidfile, --sdnotify and --restart (systemd restarts it). Global
// options before the command stay. Returns [globals, flags, image and command].
export const runArguments = (createCommand: string[], flags: UnitSetting['flags']): [string[], string[], string[]] => {
  const DROP = new Set(['--detach', '-d', '--rm', '--replace', '--name', '--cidfile', '--sdnotify', '--restart']);
  const { globals, next } = commandOf(createCommand);
  let i = next;
  const kept: string[] = [];
  for (; i < createCommand.length; i++) {
    const arg = createCommand[i];
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg : arg.slice(0, eq);
      const kind = flags.get(name) ?? 'none';
      const words = [arg];
      if (eq < 0 && kind === 'value' && i + 1 < createCommand.length) words.push(createCommand[++i]);
      else if (eq < 0 && kind === 'optional' && /^(true|false)$/.test(createCommand[i + 1] ?? '')) words.push(createCommand[++i]);
      if (!DROP.has(name)) kept.push(...words);
      continue;
    }
    // A group of short flags (-dit, -p80:80, -e A=1): the first that takes a value ends it.
    let group = '';
    const letters = arg.slice(1);
    for (let j = 0; j < letters.length; j++) {
      const short = `-${letters[j]}`;
      const kind = flags.get(short) ?? 'none';
      if (kind !== 'value') {
        if (!DROP.has(short)) group += letters[j];
        continue;
      }
      const value = j + 1 < letters.length ? letters.slice(j + 1) : createCommand[++i];
      if (group) kept.push(`-${group}`);
      group = '';
      if (!DROP.has(short) && value !== undefined) kept.push(`${short}`, value);
      break;
    }
    if (group) kept.push(`-${group}`);
  }
  return [globals, kept, createCommand.slice(i)];
};

// Restart= from --restart-policy, else from the container's own policy (which then leaves the
// container's command line), else on-failure.
const restartOf = (record: ContainerRecord, options: UnitOptions): string => {
  if (options.restartPolicy !== undefined) {
    if (!POLICIES.includes(options.restartPolicy))
      throw new CliError('EUSAGE', `invalid --restart-policy "${options.restartPolicy}": use ${POLICIES.join(', ')}`);
    return options.restartPolicy;
  }
  const own = record.config.restartPolicy.name;
  return own === 'always' || own === 'unless-stopped' ? 'always' : 'on-failure';
};

// The unit for one container.
export const containerUnit = (record: ContainerRecord, options: UnitOptions, setting: UnitSetting): Unit => {
  const ident = options.name ? record.name : record.id;
  const name = `${options.containerPrefix}${options.separator}${ident}.service`;
  const stop = options.stopTimeout ?? record.config.stopTimeout;
  for (const e of options.env) if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(e)) throw new CliError('EUSAGE', `invalid --env "${e}": use KEY=VALUE`);
  const cidfile = '%t/%n.ctr-id';
  let exec: string[];
  if (options.new) {
    if (!record.createCommand)
      throw new CliError(
        'EUSAGE',
        `${record.name} was made before skiff kept the command that made it: --new cannot repeat it (create it again, or drop --new)`,
      );
    const [globals, flags, rest] = runArguments(record.createCommand, setting.flags);
    const sdnotify = record.config.sdnotify && record.config.sdnotify !== 'ignore' ? record.config.sdnotify : 'conmon';
    // (The id file's path is a systemd specifier: written as it is.)
    const run = `${command([setting.skiff, ...globals, 'run'])} --cidfile=${cidfile} ${command(['--cgroups=no-conmon', '--rm', `--sdnotify=${sdnotify}`, '-d', '--replace'])}`;
    exec = [
      `ExecStartPre=/bin/rm -f ${cidfile}`,
      `ExecStart=${run} ${command(['--name', record.name, ...flags, ...rest])}`,
      `ExecStop=${command([setting.skiff, ...globals, 'stop', '--ignore', '-t', String(stop)])} --cidfile=${cidfile}`,
      `ExecStopPost=${command([setting.skiff, ...globals, 'rm', '-f', '--ignore', '-t', String(stop)])} --cidfile=${cidfile}`,
    ];
  } else {
    // (The stores named: the user's manager may not have the environment that found them.)
    const skiff = [setting.skiff, '--root', setting.dataDir, '--runroot', setting.runDir];
    exec = [
      `ExecStart=${command([...skiff, 'start', '--sdnotify=conmon', ident])}`,
      `ExecStop=${command([...skiff, 'stop', '-t', String(stop), ident])}`,
      `ExecStopPost=${command([...skiff, 'stop', '-t', String(stop), ident])}`,
    ];
  }
  const lines = [
    ...(options.header ? [`# ${name}`, `# autogenerated by skiff ${setting.version}`, `# ${setting.now.toUTCString()}`, ''] : []),
    '[Unit]',
    `Description=skiff ${name}`,
    'Wants=network-online.target',
    'After=network-online.target',
    `RequiresMountsFor=${[setting.dataDir, setting.runDir].map((d) => systemdWord(d, false)).join(' ')}`,
    ...options.after.map((u) => `After=${u}`),
    ...options.wants.map((u) => `Wants=${u}`),
    ...options.requires.map((u) => `Requires=${u}`),
    '',
    '[Service]',
    'Environment=SKIFF_SYSTEMD_UNIT=%n',
    ...options.env.map((e) => `Environment=${systemdWord(e, false)}`),
    `Restart=${restartOf(record, options)}`,
    ...(options.restartSec !== undefined ? [`RestartSec=${options.restartSec}`] : []),
    ...(options.startTimeout !== undefined ? [`TimeoutStartSec=${options.startTimeout}`] : []),
    `TimeoutStopSec=${stop + 60}`,
    ...exec,
    'Type=notify',
    'NotifyAccess=all',
    'KillMode=mixed',
    'Delegate=yes',
    // The monitor exits with the container's code: 143 is the stop signal's doing, not a failure.
    'SuccessExitStatus=143',
    '',
    '[Install]',
    'WantedBy=default.target',
  ];
  return { name, text: `${lines.join('\n')}\n` };
};
