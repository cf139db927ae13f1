// The command tree: every command and group, built without loading the engine.
import { Command, Option } from 'commander';
import { VERSION } from '../version.js';
// Each command's module loads only when that command is built: `skiff images` compiles the code
// of `images`, not of all fifty commands and the engine parts they use.
type Builder = () => Promise<Command>;
const image = () => import('./commands/image/list.js');
const archive = () => import('./commands/image/archive.js');
const remote = () => import('./commands/image/remote.js');
const imageRm = () => import('./commands/image/rm.js');
const tag = () => import('./commands/image/tag.js');
const login = () => import('./commands/image/login.js');
const lifecycle = () => import('./commands/container/lifecycle.js');
const files = () => import('./commands/container/files.js');
const prune = () => import('./commands/system/prune.js');
const completion = () => import('./completion.js');
const cmd = {
  images: async (name?: string) => (await image()).build(name),
  pull: async (name?: string) => (await import('./commands/image/pull.js')).build(name),
  push: async (name?: string) => (await import('./commands/image/push.js')).build(name),
  save: async (name?: string) => (await archive()).buildSave(name),
  load: async (name?: string) => (await archive()).buildLoad(name),
  imageInspect: async (name?: string) => (await import('./commands/image/inspect.js')).build(name),
  rmi: async (name?: string) => (await imageRm()).buildRm(name),
  imagePrune: async (name?: string) => (await imageRm()).buildPrune(name),
  tag: async (name?: string) => (await tag()).buildTag(name),
  untag: async (name?: string) => (await tag()).buildUntag(name),
  exists: async (name?: string) => (await import('./commands/image/exists.js')).build(name),
  history: async (name?: string) => (await import('./commands/image/history.js')).build(name),
  import: async (name?: string) => (await import('./commands/image/import.js')).build(name),
  login: async () => (await login()).buildLogin(),
  logout: async () => (await login()).buildLogout(),
  search: async () => (await remote()).buildSearch(),
  manifestInspect: async () => (await remote()).buildManifestInspect(),
  create: async () => (await import('./commands/container/create.js')).build(),
  run: async () => (await import('./commands/container/run.js')).build(),
  start: async () => (await import('./commands/container/start.js')).build(),
  ps: async (name?: string) => (await import('./commands/container/ps.js')).build(name),
  logs: async () => (await import('./commands/container/logs.js')).build(),
  attach: async () => (await import('./commands/container/attach.js')).build(),
  exec: async () => (await import('./commands/container/exec.js')).build(),
  stop: async () => (await lifecycle()).buildStop(),
  kill: async () => (await lifecycle()).buildKill(),
  restart: async () => (await lifecycle()).buildRestart(),
  rm: async () => (await lifecycle()).buildRm(),
  wait: async () => (await lifecycle()).buildWait(),
  rename: async () => (await lifecycle()).buildRename(),
  containerPrune: async () => (await lifecycle()).buildPrune(),
  inspect: async (name?: string, kind?: 'container') => (await import('./commands/container/inspect.js')).build(name, kind),
  cp: async () => (await files()).buildCp(),
  diff: async () => (await files()).buildDiff(),
  export: async () => (await files()).buildExport(),
  commit: async () => (await files()).buildCommit(),
  top: async () => (await files()).buildTop(),
  port: async () => (await import('./commands/container/port.js')).build(),
  cleanup: async () => (await import('./commands/container/cleanup.js')).build(),
  network: async () => (await import('./commands/network/network.js')).build(),
  unshare: async () => (await import('./commands/system/unshare.js')).build(),
  events: async () => (await import('./commands/system/events.js')).build(),
  check: async () => (await import('./commands/system/check.js')).build(),
  info: async () => (await import('./commands/system/info.js')).build(),
  df: async () => (await import('./commands/system/df.js')).build(),
  version: async () => (await import('./commands/system/version.js')).build(),
  systemPrune: async () => (await prune()).buildPrune(),
  reset: async () => (await prune()).buildReset(),
  completion: async () => (await completion()).buildCompletion(),
  complete: async () => (await completion()).buildComplete(),
};

// A group and its subcommands (`hidden` ones are left out of help).
const group = (name: string, description: string, children: Builder[], hidden: Builder[] = [], positional = false): Builder => async () => {
  const g = new Command(name).description(description);
  if (positional) g.enablePositionalOptions();
  for (const child of await Promise.all(children.map((b) => b()))) g.addCommand(child);
  for (const child of await Promise.all(hidden.map((b) => b()))) g.addCommand(child, { hidden: true });
  return g;
};

const imageGroup = group('image', 'Manage images', [
  async () => (await cmd.images('ls')).alias('list'),
  () => cmd.pull('pull'),
  () => cmd.push('push'),
  () => cmd.save('save'),
  () => cmd.load('load'),
  () => cmd.imageInspect('inspect'),
  () => cmd.rmi('rm'),
  () => cmd.tag('tag'),
  () => cmd.untag('untag'),
  () => cmd.exists('exists'),
  () => cmd.imagePrune('prune'),
  () => cmd.history('history'),
  () => cmd.import('import'),
]);

const containerGroup = group(
  'container',
  'Manage containers',
  [
    cmd.create,
    cmd.run,
    cmd.start,
    async () => (await cmd.ps('ls')).aliases(['list', 'ps']),
    cmd.logs,
    cmd.attach,
    cmd.exec,
    cmd.stop,
    cmd.kill,
    cmd.restart,
    cmd.rm,
    cmd.wait,
    cmd.rename,
    () => cmd.inspect('inspect', 'container'),
    cmd.containerPrune,
    cmd.cp,
    cmd.diff,
    cmd.export,
    cmd.commit,
    cmd.top,
    cmd.port,
  ],
  [cmd.cleanup],
  true,
);

const manifestGroup = group('manifest', 'Inspect manifests and image indexes in registries', [cmd.manifestInspect]);

const systemGroup = group('system', 'Manage skiff itself: host check, info, disk usage, prune, reset, events', [cmd.check, cmd.info, cmd.df, cmd.systemPrune, cmd.reset, cmd.events]);

// Top-level commands by name, in help order.
const TOP_LEVEL: [string, Builder][] = [
  ['run', cmd.run],
  ['create', cmd.create],
  ['start', cmd.start],
  ['ps', () => cmd.ps()],
  ['logs', cmd.logs],
  ['attach', cmd.attach],
  ['exec', cmd.exec],
  ['stop', cmd.stop],
  ['kill', cmd.kill],
  ['restart', cmd.restart],
  ['rm', cmd.rm],
  ['wait', cmd.wait],
  ['rename', cmd.rename],
  ['container', containerGroup],
  ['cp', cmd.cp],
  ['diff', cmd.diff],
  ['export', cmd.export],
  ['commit', cmd.commit],
  ['top', cmd.top],
  ['port', cmd.port],
  ['import', () => cmd.import()],
  ['events', cmd.events],
  ['network', cmd.network],
  ['unshare', cmd.unshare],
  ['pull', () => cmd.pull()],
  ['push', () => cmd.push()],
  ['save', () => cmd.save()],
  ['load', () => cmd.load()],
  ['images', () => cmd.images()],
  ['inspect', () => cmd.inspect()],
  ['rmi', () => cmd.rmi()],
  ['tag', () => cmd.tag()],
  ['untag', () => cmd.untag()],
  ['history', () => cmd.history()],
  ['login', cmd.login],
  ['logout', cmd.logout],
  ['search', cmd.search],
  ['image', imageGroup],
  ['manifest', manifestGroup],
  ['system', systemGroup],
  ['info', cmd.info],
  ['version', cmd.version],
  ['completion', cmd.completion],
];

// The command tree. Given the argv of a run, only the command it names is built (building all of
// them is a few ms of every start); help, completion and unknown commands get the whole tree.
export const buildProgram = async (argv?: string[]): Promise<Command> => {
  const program = new Command('skiff')
    .description('Rootless, daemonless containers for one user')
    .version(VERSION, '-v, --version', 'print the version')
    .addOption(new Option('--root <dir>', 'storage root (default $XDG_DATA_HOME/skiff)'))
    .addOption(new Option('--runroot <dir>', 'runtime state dir (default $XDG_RUNTIME_DIR/skiff)'))
    .addOption(new Option('--log-level <level>', 'error, warn, info or debug').choices(['error', 'warn', 'info', 'debug']))
    .enablePositionalOptions()
    .showSuggestionAfterError(true);
  const named = argv && firstCommand(argv.slice(2));
  const only = TOP_LEVEL.find(([name]) => name === named);
  if (only) return program.addCommand(await only[1]());
  for (const command of await Promise.all(TOP_LEVEL.map(([, build]) => build()))) program.addCommand(command);
  return program.addCommand(await cmd.complete(), { hidden: true });
};

// The first word that is not a global option (or its value).
const firstCommand = (args: string[]): string | undefined => {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--root' || a === '--runroot' || a === '--log-level') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
};
