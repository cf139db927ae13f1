// skiff compose [-f FILE]... [-p NAME] [--project-directory D] [--env-file F] COMMAND: multi-container
// projects from Compose files (docker compose v2's names and output).
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import { collect } from '../../engine.js';
import type { Loaded } from '../../../compose/load.js';
import { buildConfig } from './config.js';
import { buildBuild, buildDown, buildLogs, buildPs, buildUp } from './lifecycle.js';
import { buildCreate, buildExec, buildRun, buildVersion, buildWait } from './ops.js';
import { buildImages, buildLs, buildPort, buildPull, buildPush, buildTop } from './ops-info.js';
import { buildKill, buildPause, buildRestart, buildRm, buildStart, buildStop, buildUnpause } from './ops-state.js';

interface ComposeGlobals {
  file?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFile?: string[];
  profile?: string[];
}

// Reads the project the compose flags name; problems in the files are skiff errors (exit 125).
// Warnings (unset variables, keys that take no effect in skiff) go to standard error.
export const loadFor = async (cmd: Command, options: { interpolate?: boolean } = {}): Promise<Loaded> => {
  const flags = cmd.optsWithGlobals() as ComposeGlobals;
  const { loadProject } = await import('../../../compose/load.js');
  const { ComposeFileError } = await import('../../../compose/source.js');
  const { unappliedKeys } = await import('../../../engine/compose-create.js');
  try {
    const loaded = loadProject({
      files: flags.file,
      projectName: flags.projectName,
      projectDirectory: flags.projectDirectory,
      envFiles: flags.envFile,
      profiles: flags.profile,
      interpolate: options.interpolate,
    });
    for (const w of [...loaded.warnings, ...unappliedKeys(loaded.project)]) process.stderr.write(`WARN: ${w}\n`);
    return loaded;
  } catch (e) {
    if (e instanceof ComposeFileError) throw new CliError('ECONFIG', e.message);
    throw e;
  }
};

export const build = (): Command =>
  new Command('compose')
    .description('Run multi-container projects from Compose files')
    .option('-f, --file <file>', 'a compose file (repeatable, merged in order; default compose.yaml and compose.override.yaml)', collect)
    .option('-p, --project-name <name>', 'the project name (default: name:, COMPOSE_PROJECT_NAME or the directory)')
    .option('--project-directory <dir>', "the project's directory (default: the first file's)")
    .option('--env-file <file>', 'variables for interpolation (repeatable; default .env in the project directory)', collect)
    .option('--profile <profile>', 'a profile to enable (repeatable; default COMPOSE_PROFILES, comma-separated)', collect)
    .enablePositionalOptions()
    .addCommand(buildConfig())
    .addCommand(buildUp())
    .addCommand(buildDown())
    .addCommand(buildPs())
    .addCommand(buildLogs())
    .addCommand(buildBuild())
    .addCommand(buildExec())
    .addCommand(buildRun())
    .addCommand(buildStart())
    .addCommand(buildStop())
    .addCommand(buildRestart())
    .addCommand(buildKill())
    .addCommand(buildRm())
    .addCommand(buildPause())
    .addCommand(buildUnpause())
    .addCommand(buildTop())
    .addCommand(buildPort())
    .addCommand(buildImages())
    .addCommand(buildLs())
    .addCommand(buildVersion())
    .addCommand(buildPull())
    .addCommand(buildPush())
    .addCommand(buildCreate())
    .addCommand(buildWait());
