// skiff generate systemd [flags] CONTAINER: a systemd user unit that runs the container as a
// service (src/systemd/units.ts), printed, as JSON, or written to ./NAME.service (--files).
import { join } from 'node:path';
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import { containerUnit, type UnitOptions } from '../../../systemd/units.js';
import { writeFileAtomic } from '../../../util/fs.js';
import { log } from '../../../util/log.js';
import { skiffPath } from '../../../util/self.js';
import { VERSION } from '../../../version.js';
import { collect, openEngineFor, parseBool } from '../../engine.js';
import { printJson, printLine } from '../../output/print.js';
import { writeOut } from '../../output/stdout.js';
import { build as buildRun } from './run.js';

interface GenerateFlags {
  name?: boolean;
  new?: boolean;
  files?: boolean;
  format?: string;
  restartPolicy?: string;
  restartSec?: string;
  startTimeout?: string;
  stopTimeout?: string;
  time?: string;
  containerPrefix: string;
  podPrefix: string;
  separator: string;
  header: boolean;
  after?: string[];
  wants?: string[];
  requires?: string[];
  env?: string[];
  template?: boolean;
}

const seconds = (flag: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new CliError('EUSAGE', `invalid ${flag} "${value}": use a whole number of seconds`);
  return Number(value);
};

// run's flags and whether each takes a value, to read the command that made a container.
export const runFlags = (): Map<string, 'none' | 'value' | 'optional'> => {
  const flags = new Map<string, 'none' | 'value' | 'optional'>();
  for (const option of buildRun().options) {
    const kind = option.required ? 'value' : option.optional ? 'optional' : 'none';
    for (const name of [option.long, option.short]) if (name) flags.set(name, kind);
  }
  return flags;
};

const systemd = (): Command =>
  new Command('systemd')
    .description('Generate a systemd user unit that runs a container as a service')
    .argument('<container>')
    .option('-n, --name', "name the unit after the container's name, not its id")
    .option('--new', 'the unit creates the container itself (from the command that made it) and removes it when it stops')
    .option('-f, --files', 'write NAME.service in the current directory instead of printing it')
    .option('--format <format>', 'json: {"unit name": "unit text"}')
    .option('--restart-policy <policy>', "systemd's Restart= (default: on-failure, or always for a container that restarts always)")
    .option('--restart-sec <seconds>', "systemd's RestartSec=")
    .option('--start-timeout <seconds>', "systemd's TimeoutStartSec=")
    .option('--stop-timeout <seconds>', 'seconds the container gets to stop (default: its own stop timeout)')
    .option('-t, --time <seconds>', 'the same as --stop-timeout')
    .option('--container-prefix <prefix>', 'the unit name prefix', 'container')
    .option('--pod-prefix <prefix>', 'accepted for Podman scripts: skiff has no pods', 'pod')
    .option('--separator <separator>', 'between the prefix and the name', '-')
    .option('--no-header', 'leave out the comment header')
    .option('--after <unit>', 'After= this unit', collect)
    .option('--wants <unit>', 'Wants= this unit', collect)
    .option('--requires <unit>', 'Requires= this unit', collect)
    .option('-e, --env <KEY=VALUE>', 'an Environment= line in the unit', collect)
    .option('--template', 'a template unit (not supported by skiff: refused)')
    .action(async (input: string, flags: GenerateFlags, cmd: Command) => {
      if (flags.template) throw new CliError('EUSAGE', '--template is not supported by skiff: generate one unit per container');
      if (flags.format !== undefined && flags.format !== 'json') throw new CliError('EUSAGE', `invalid --format "${flags.format}": use json`);
      const engine = await openEngineFor(cmd);
      const record = engine.containers.find(input);
      const options: UnitOptions = {
        name: flags.name,
        new: flags.new,
        restartPolicy: flags.restartPolicy,
        restartSec: seconds('--restart-sec', flags.restartSec),
        startTimeout: seconds('--start-timeout', flags.startTimeout),
        stopTimeout: seconds('--stop-timeout', flags.stopTimeout ?? flags.time),
        containerPrefix: flags.containerPrefix,
        separator: flags.separator,
        header: flags.header,
        after: flags.after ?? [],
        wants: flags.wants ?? [],
        requires: flags.requires ?? [],
        env: flags.env ?? [],
      };
      const unit = containerUnit(record, options, {
        skiff: skiffPath(),
        version: VERSION,
        now: new Date(),
        dataDir: engine.ctx.paths.data,
        runDir: engine.ctx.paths.run,
        flags: runFlags(),
      });
      // (Podman warns too: the container's restart policy and the unit's Restart= would both act,
      // and skiff-restart.service would start it at boot outside the unit.)
      if (!flags.new && record.config.restartPolicy.name !== 'no')
        log.warn(
          `${record.name} has restart policy ${record.config.restartPolicy.name}: make it again without one, and let the unit restart it (or use --new)`,
        );
      if (flags.files) {
        const path = join(process.cwd(), unit.name);
        // (A new file renamed into place: a link planted under that name is replaced, not followed.)
        writeFileAtomic(path, unit.text, 0o644);
        printLine(path);
      } else if (flags.format === 'json') printJson({ [unit.name.replace(/\.service$/, '')]: unit.text });
      else writeOut(unit.text);
    });

// generate spec: the container's configuration as Podman's SpecGenerator JSON (container-spec.ts).
const spec = (): Command =>
  new Command('spec')
    .description("Print a container's configuration as Podman's SpecGenerator JSON")
    .argument('<container>')
    .option('-c, --compact', 'print the JSON on one line')
    .option('-f, --filename <file>', 'write it to this file (and print its name)')
    .option('-n, --name [bool]', "name it as the container's clone (NAME-clone; --name=false: the container's own name)", parseBool, true)
    .action(async (input: string, flags: { compact?: boolean; filename?: string; name: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const json = engine.reports.spec(input, flags.name);
      const text = flags.compact ? JSON.stringify(json) : JSON.stringify(json, null, 1);
      if (!flags.filename) return printLine(text);
      // (A new file renamed into place: a link planted under that name is replaced, not followed.)
      writeFileAtomic(flags.filename, text, 0o644);
      printLine(flags.filename);
    });

export const build = (): Command =>
  new Command('generate').description('Generate systemd units and specs for containers').addCommand(systemd()).addCommand(spec());
