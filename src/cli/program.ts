// The command tree: every command and group, built without loading the engine.
import { Command, Option } from 'commander';
import { VERSION } from '../version.js';
import { build as buildExists } from './commands/image/exists.js';
import { build as buildHistory } from './commands/image/history.js';
import { build as buildInspect } from './commands/image/inspect.js';
import { build as buildList } from './commands/image/list.js';
import { buildLogin, buildLogout } from './commands/image/login.js';
import { build as buildPull } from './commands/image/pull.js';
import { build as buildPush } from './commands/image/push.js';
import { buildLoad, buildSave } from './commands/image/archive.js';
import { buildManifestInspect, buildSearch } from './commands/image/remote.js';
import { buildPrune, buildRm } from './commands/image/rm.js';
import { buildTag, buildUntag } from './commands/image/tag.js';
import { build as buildCheck } from './commands/system/check.js';
import { build as buildDf } from './commands/system/df.js';
import { build as buildInfo } from './commands/system/info.js';
import { build as buildVersion } from './commands/system/version.js';
import { buildCompletion, buildComplete } from './completion.js';

export const buildProgram = (): Command => {
  const program = new Command('skiff')
    .description('Rootless, daemonless containers for one user')
    .version(VERSION, '-v, --version', 'print the version')
    .addOption(new Option('--root <dir>', 'storage root (default $XDG_DATA_HOME/skiff)'))
    .addOption(new Option('--runroot <dir>', 'runtime state dir (default $XDG_RUNTIME_DIR/skiff)'))
    .addOption(new Option('--log-level <level>', 'error, warn, info or debug').choices(['error', 'warn', 'info', 'debug']))
    .showSuggestionAfterError(true);

  const image = new Command('image').description('Manage images');
  image
    .addCommand(buildList('ls').alias('list'))
    .addCommand(buildPull('pull'))
    .addCommand(buildPush('push'))
    .addCommand(buildSave('save'))
    .addCommand(buildLoad('load'))
    .addCommand(buildInspect('inspect'))
    .addCommand(buildRm('rm'))
    .addCommand(buildTag('tag'))
    .addCommand(buildUntag('untag'))
    .addCommand(buildExists('exists'))
    .addCommand(buildPrune('prune'))
    .addCommand(buildHistory('history'));

  const manifest = new Command('manifest').description('Inspect manifests and image indexes in registries');
  manifest.addCommand(buildManifestInspect());

  const system = new Command('system').description('Manage skiff itself: host check, info, disk usage');
  system.addCommand(buildCheck()).addCommand(buildInfo()).addCommand(buildDf());

  program
    .addCommand(buildPull())
    .addCommand(buildPush())
    .addCommand(buildSave())
    .addCommand(buildLoad())
    .addCommand(buildList())
    .addCommand(buildInspect())
    .addCommand(buildRm())
    .addCommand(buildTag())
    .addCommand(buildUntag())
    .addCommand(buildHistory())
    .addCommand(buildLogin())
    .addCommand(buildLogout())
    .addCommand(buildSearch())
    .addCommand(image)
    .addCommand(manifest)
    .addCommand(system)
    .addCommand(buildInfo())
    .addCommand(buildVersion())
    .addCommand(buildCompletion())
    .addCommand(buildComplete(), { hidden: true });
  return program;
};
