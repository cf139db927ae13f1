// The command tree: every command and group, built without loading the engine.
import { Command, Option } from 'commander';
import { GLOBAL_VALUE_OPTIONS } from '../rootless/enter.js';
import { VERSION } from '../version.js';
import { build as buildImageBuild } from './commands/image/build.js';
import { build as buildExists } from './commands/image/exists.js';
import { build as buildHistory } from './commands/image/history.js';
import { build as buildImageInspect } from './commands/image/inspect.js';
import { build as buildList } from './commands/image/list.js';
import { buildLogin, buildLogout } from './commands/image/login.js';
import { build as buildPull } from './commands/image/pull.js';
import { build as buildPush } from './commands/image/push.js';
import { buildLoad, buildSave } from './commands/image/archive.js';
import { buildManifestInspect, buildSearch } from './commands/image/remote.js';
import {
  buildManifestAdd,
  buildManifestAnnotate,
  buildManifestCreate,
  buildManifestExists,
  buildManifestRemove,
  buildManifestRm,
} from './commands/image/manifest.js';
import { buildManifestPush } from './commands/image/manifest-push.js';
import { buildImageDiff, buildImageTree } from './commands/image/layers.js';
import { buildImageMount, buildImageUnmount } from './commands/image/mount.js';
import { buildPrune, buildRm } from './commands/image/rm.js';
import { buildTag, buildUntag } from './commands/image/tag.js';
import { build as buildCheck } from './commands/system/check.js';
import { build as buildMigrate } from './commands/system/migrate.js';
import { build as buildDf } from './commands/system/df.js';
import { build as buildInfo } from './commands/system/info.js';
import { build as buildVersion } from './commands/system/version.js';
import { build as buildAttach } from './commands/container/attach.js';
import { build as buildCleanup } from './commands/container/cleanup.js';
import { build as buildCreate } from './commands/container/create.js';
import { build as buildExec } from './commands/container/exec.js';
import { build as buildInspect } from './commands/container/inspect.js';
import {
  buildKill,
  buildPause,
  buildPrune as buildContainerPrune,
  buildRename,
  buildRestart,
  buildRm as buildContainerRm,
  buildStop,
  buildWait,
} from './commands/container/lifecycle.js';
import { build as buildLogs } from './commands/container/logs.js';
import { build as buildPort } from './commands/container/port.js';
import { build as buildNetwork } from './commands/network/network.js';
import { build as buildVolume } from './commands/volume/volume.js';
import { build as buildCompose } from './commands/compose/compose.js';
import { build as buildSecret } from './commands/secret/secret.js';
import { build as buildSystemd } from './commands/systemd/systemd.js';
import { build as buildPs } from './commands/container/ps.js';
import { build as buildRun } from './commands/container/run.js';
import { build as buildStart } from './commands/container/start.js';
import { build as buildInit } from './commands/container/init.js';
import { buildMount, buildUnmount } from './commands/container/mount.js';
import { build as buildClone } from './commands/container/clone.js';
import { build as buildRunlabel } from './commands/container/runlabel.js';
import { build as buildUpdate } from './commands/container/update.js';
import { build as buildStats } from './commands/container/stats.js';
import { build as buildHealthcheck } from './commands/container/healthcheck.js';
import { build as buildGenerate } from './commands/container/generate.js';
import { build as buildAutoUpdate } from './commands/container/auto-update.js';
import { build as buildUnshare } from './commands/system/unshare.js';
import { build as buildEvents } from './commands/system/events.js';
import { buildPrune as buildSystemPrune, buildReset } from './commands/system/prune.js';
import { buildCommit, buildCp, buildDiff, buildExport, buildTop } from './commands/container/files.js';
import { build as buildImport } from './commands/image/import.js';
import { buildTrust } from './commands/image/trust.js';
import { buildSign } from './commands/image/sign.js';
import { buildScp } from './commands/image/scp.js';
import { buildCompletion, buildComplete } from './completion.js';
import { buildExists as buildNamedExists } from './engine.js';

const imageGroup = (): Command =>
  new Command('image')
    .description('Manage images')
    .addCommand(buildImageBuild())
    .addCommand(buildList('ls').alias('list'))
    .addCommand(buildPull('pull'))
    .addCommand(buildPush('push'))
    .addCommand(buildSave('save'))
    .addCommand(buildLoad('load'))
    .addCommand(buildImageInspect('inspect'))
    .addCommand(buildRm('rm'))
    .addCommand(buildTag('tag'))
    .addCommand(buildUntag('untag'))
    .addCommand(buildExists('exists'))
    .addCommand(buildPrune('prune'))
    .addCommand(buildHistory('history'))
    .addCommand(buildImport('import'))
    .addCommand(buildSearch('search'))
    .addCommand(buildImageDiff())
    .addCommand(buildImageTree())
    .addCommand(buildImageMount())
    .addCommand(buildImageUnmount())
    .addCommand(buildTrust())
    .addCommand(buildSign())
    .addCommand(buildScp());

const containerGroup = (): Command =>
  new Command('container')
    .description('Manage containers')
    .enablePositionalOptions()
    .addCommand(buildCreate())
    .addCommand(buildRun())
    .addCommand(buildStart())
    .addCommand(buildInit())
    .addCommand(buildPs('ls').alias('list'))
    .addCommand(buildPs('ps'))
    .addCommand(buildLogs())
    .addCommand(buildAttach())
    .addCommand(buildExec())
    .addCommand(buildStop())
    .addCommand(buildKill())
    .addCommand(buildPause('pause'))
    .addCommand(buildPause('unpause'))
    .addCommand(buildUpdate())
    .addCommand(buildStats())
    .addCommand(buildRestart())
    .addCommand(buildContainerRm())
    .addCommand(buildWait())
    .addCommand(buildRename())
    .addCommand(buildInspect('inspect', 'container'))
    .addCommand(
      buildNamedExists('container', (engine, name) => engine.containers.exists(name)).option(
        '--external',
        'accepted: skiff has no external containers (made by other tools in its storage) to look for',
      ),
    )
    .addCommand(buildContainerPrune())
    .addCommand(buildCp())
    .addCommand(buildDiff())
    .addCommand(buildExport())
    .addCommand(buildCommit())
    .addCommand(buildTop())
    .addCommand(buildPort())
    .addCommand(buildMount())
    .addCommand(buildUnmount())
    .addCommand(buildClone())
    .addCommand(buildRunlabel())
    .addCommand(buildCleanup(), { hidden: true });

const manifestGroup = (): Command =>
  new Command('manifest')
    .description('Create and manipulate manifest lists and image indexes')
    .addCommand(buildManifestAdd())
    .addCommand(buildManifestAnnotate())
    .addCommand(buildManifestCreate())
    .addCommand(buildManifestExists())
    .addCommand(buildManifestInspect())
    .addCommand(buildManifestPush())
    .addCommand(buildManifestRemove())
    .addCommand(buildManifestRm());

const systemGroup = (): Command =>
  new Command('system')
    .description('Manage skiff itself: host check, info, disk usage, prune, reset, migrate, events')
    .addCommand(buildCheck())
    .addCommand(buildInfo())
    .addCommand(buildDf())
    .addCommand(buildSystemPrune())
    .addCommand(buildReset())
    .addCommand(buildMigrate())
    .addCommand(buildEvents());

// Repeats a global option's values (--storage-opt a --storage-opt b).
function collectGlobal(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

// Top-level commands by name, in help order. Each is built only when needed (see buildProgram).
const TOP_LEVEL: [string, () => Command][] = [
  ['run', () => buildRun()],
  ['create', () => buildCreate()],
  ['start', () => buildStart()],
  ['init', () => buildInit()],
  ['ps', () => buildPs()],
  ['logs', () => buildLogs()],
  ['attach', () => buildAttach()],
  ['exec', () => buildExec()],
  ['stop', () => buildStop()],
  ['kill', () => buildKill()],
  ['pause', () => buildPause('pause')],
  ['unpause', () => buildPause('unpause')],
  ['update', () => buildUpdate()],
  ['stats', () => buildStats()],
  ['restart', () => buildRestart()],
  ['rm', () => buildContainerRm()],
  ['wait', () => buildWait()],
  ['rename', () => buildRename()],
  ['container', containerGroup],
  ['cp', () => buildCp()],
  ['diff', () => buildDiff()],
  ['export', () => buildExport()],
  ['commit', () => buildCommit()],
  ['top', () => buildTop()],
  ['port', () => buildPort()],
  ['mount', () => buildMount()],
  ['unmount', () => buildUnmount()],
  ['healthcheck', () => buildHealthcheck()],
  ['generate', () => buildGenerate()],
  ['auto-update', () => buildAutoUpdate()],
  ['import', () => buildImport()],
  ['build', () => buildImageBuild()],
  ['buildx', () => new Command('buildx').description('Build images (Docker buildx compatible)').addCommand(buildImageBuild())],
  ['events', () => buildEvents()],
  ['network', () => buildNetwork()],
  ['volume', () => buildVolume()],
  ['compose', () => buildCompose()],
  ['secret', () => buildSecret()],
  ['unshare', () => buildUnshare()],
  ['pull', () => buildPull()],
  ['push', () => buildPush()],
  ['save', () => buildSave()],
  ['load', () => buildLoad()],
  ['images', () => buildList()],
  ['inspect', () => buildInspect()],
  ['rmi', () => buildRm()],
  ['tag', () => buildTag()],
  ['untag', () => buildUntag()],
  ['history', () => buildHistory()],
  ['login', () => buildLogin()],
  ['logout', () => buildLogout()],
  ['search', () => buildSearch()],
  ['image', imageGroup],
  ['manifest', manifestGroup],
  ['system', systemGroup],
  ['systemd', () => buildSystemd()],
  ['info', () => buildInfo()],
  ['version', () => buildVersion()],
  ['completion', () => buildCompletion()],
];

// The command tree. Given the argv of a run, only the command it names is built (building all of
// them is a few ms of every start); help, completion and unknown commands get the whole tree.
export const buildProgram = (argv?: string[]): Command => {
  const program = new Command('skiff')
    .description('Rootless, daemonless containers for one user')
    .version(`skiff version ${VERSION}`, '-v, --version', 'print the version')
    .addOption(new Option('--root <dir>', 'storage root (default $XDG_DATA_HOME/skiff)'))
    .addOption(new Option('--runroot <dir>', 'runtime state dir (default $XDG_RUNTIME_DIR/skiff)'))
    .addOption(
      new Option('--log-level <level>', 'error, warn, info or debug (trace is debug; fatal and panic are error)').choices([
        'trace',
        'debug',
        'info',
        'warn',
        'error',
        'fatal',
        'panic',
      ]),
    )
    .addOption(new Option('--storage-driver <driver>', 'overlay (native or fuse-overlayfs: the default) or vfs (full copies)').choices(['overlay', 'vfs']))
    .addOption(new Option('--storage-opt <option>', "accepted for Podman scripts: skiff's store has no driver options").argParser(collectGlobal))
    .addOption(new Option('--runtime <runtime>', 'the OCI runtime: crun, runc or a path (skiff.conf engine.runtime)'))
    .addOption(new Option('--tmpdir <dir>', 'where skiff puts temporary files (TMPDIR)'))
    .addOption(new Option('--runtime-flag <flag>', 'a global option for the OCI runtime (debug: --debug)').argParser(collectGlobal))
    .addOption(new Option('--events-backend <backend>', 'file (the default: skiff events reads it) or none').choices(['file', 'none']))
    .addOption(new Option('--conmon <path>', "the container monitor to use (skiff-monitor's path)"))
    .addOption(
      new Option(
        '--hooks-dir <dir>',
        'a directory of OCI hook files (repeatable; default containers.conf hooks_dir, else /usr/share/containers/oci/hooks.d and /etc/containers/oci/hooks.d)',
      ).argParser(collectGlobal),
    )
    .addOption(new Option('--namespace <name>', 'accepted for Podman scripts: skiff has one namespace per store (--root); a name other than "" is refused'))
    .addOption(new Option('--noout', 'print nothing on standard output'))
    .addOption(new Option('--syslog', 'accepted for Podman scripts: skiff logs to standard error'))
    .addOption(new Option('--network-config-dir <dir>', "where named networks' records are (default: the store's networks/)"))
    .addOption(new Option('--network-cmd-path <path>', 'the slirp4netns to run (default: the one on PATH)'))
    .addOption(new Option('--volumepath <dir>', "where named volumes are (default: the store's volumes/)"))
    .addOption(new Option('--url <url>', 'refused: skiff has no remote service').hideHelp())
    .addOption(new Option('--connection <name>', 'refused: skiff has no remote service').hideHelp())
    .addOption(new Option('--identity <file>', 'refused: skiff has no remote service').hideHelp())
    .addOption(new Option('-r, --remote', 'refused: skiff has no remote service').hideHelp())
    .addOption(
      new Option('--cgroup-manager <manager>', "who makes containers' cgroups (default: systemd where there is a user session)").choices([
        'systemd',
        'cgroupfs',
        'none',
      ]),
    )
    .enablePositionalOptions()
    .showSuggestionAfterError(true);
  const named = argv && firstCommand(argv.slice(2));
  const only = TOP_LEVEL.find(([name]) => name === named);
  if (only) return program.addCommand(only[1]());
  for (const [, build] of TOP_LEVEL) program.addCommand(build());
  return program.addCommand(buildComplete(), { hidden: true });
};

// The first word that is not a global option (or its value).
export const firstCommand = (args: string[]): string | undefined => {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (GLOBAL_VALUE_OPTIONS.includes(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
};
