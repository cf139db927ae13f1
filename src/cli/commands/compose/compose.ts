// skiff compose [-f FILE]... [-p NAME] [--project-directory D] [--env-file F] COMMAND: multi-container
// projects from Compose files (docker compose v2's names and output).
import { Command } from 'commander';
import { stringify } from 'yaml';
import { CliError } from '../../../errors.js';
import { collect } from '../../engine.js';
import { printJson } from '../../output/print.js';
import type { Loaded } from '../../../compose/load.js';
import { buildDown, buildPs, buildUp } from './lifecycle.js';
import { buildCreate, buildExec, buildRun, buildVersion, buildWait } from './ops.js';
import { buildImages, buildLs, buildPort, buildPull, buildPush, buildTop } from './ops-info.js';
import { buildKill, buildPause, buildRestart, buildRm, buildStart, buildStop, buildUnpause } from './ops-state.js';

interface ComposeGlobals {
  file?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFile?: string[];
}

// Reads the project the compose flags name; problems in the files are skiff errors (exit 125).
export const loadFor = async (cmd: Command): Promise<Loaded> => {
  const flags = cmd.optsWithGlobals() as ComposeGlobals;
  const { loadProject } = await import('../../../compose/load.js');
  const { ComposeFileError } = await import('../../../compose/source.js');
  try {
    const loaded = loadProject({ files: flags.file, projectName: flags.projectName, projectDirectory: flags.projectDirectory, envFiles: flags.envFile });
    for (const w of loaded.warnings) process.stderr.write(`WARN: ${w}\n`);
    return loaded;
  } catch (e) {
    if (e instanceof ComposeFileError) throw new CliError('ECONFIG', e.message);
    throw e;
  }
};

// The resolved model as docker compose config prints it: name, services, networks, volumes.
export const configDocument = (loaded: Loaded): object => {
  const p = loaded.project;
  return {
    name: p.name,
    services: p.services,
    ...(Object.keys(p.networks).length ? { networks: p.networks } : {}),
    ...(Object.keys(p.volumes).length ? { volumes: p.volumes } : {}),
  };
};

const buildConfig = (): Command =>
  new Command('config')
    .description('Print the resolved, interpolated compose model')
    .option('--format <format>', 'yaml (the default) or json', 'yaml')
    .option('-q, --quiet', 'only check the files')
    .option('--services', 'print the service names')
    .option('--volumes', 'print the volume names')
    .option('--networks', 'print the network names')
    .action(async (flags: { format: string; quiet?: boolean; services?: boolean; volumes?: boolean; networks?: boolean }, cmd: Command) => {
      if (flags.format !== 'yaml' && flags.format !== 'json') throw new CliError('EUSAGE', `--format ${flags.format}: use yaml or json`);
      const loaded = await loadFor(cmd);
      if (flags.quiet) return;
      const p = loaded.project;
      const names = flags.services ? Object.keys(p.services) : flags.volumes ? Object.keys(p.volumes) : flags.networks ? Object.keys(p.networks) : undefined;
      if (names) return void process.stdout.write(names.map((n) => `${n}\n`).join(''));
      const doc = configDocument(loaded);
      if (flags.format === 'json') return printJson(doc);
      process.stdout.write(stringify(doc, { nullStr: 'null', lineWidth: 0 }));
    });

export const build = (): Command =>
  new Command('compose')
    .description('Run multi-container projects from Compose files')
    .option('-f, --file <file>', 'a compose file (repeatable, merged in order; default compose.yaml and compose.override.yaml)', collect)
    .option('-p, --project-name <name>', 'the project name (default: name:, COMPOSE_PROJECT_NAME or the directory)')
    .option('--project-directory <dir>', "the project's directory (default: the first file's)")
    .option('--env-file <file>', 'variables for interpolation (repeatable; default .env in the project directory)', collect)
    .enablePositionalOptions()
    .addCommand(buildConfig())
    .addCommand(buildUp())
    .addCommand(buildDown())
    .addCommand(buildPs())
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
