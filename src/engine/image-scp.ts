// skiff image scp: an image copied to or from another host over ssh (Podman's ssh forms, without
// its `system connection` store). Push: the local save (docker-archive) streams into
// `ssh [-p PORT] [USER@]HOST` running a load there (skiff's, else Podman's). Pull: the remote save
// streams into a local `skiff load` (a child: ssh must run as the user, outside the user
// namespace that loading needs). ssh is spawned with an argv; HOST and USER are checked so that
// they cannot become ssh options, and what reaches the remote shell is single-quoted.
import { type ChildProcess, spawn } from 'node:child_process';
import { CliError, messageOf } from '../errors.js';
import { formatReference, parseReference } from '../image/reference.js';
import { skiffCommand } from './container-launch.js';
import type { EngineContext } from './context.js';
import type { ImagesEngine } from './images.js';

export interface ScpHost {
  user?: string;
  host: string;
  port?: number;
}

export type ScpPlan =
  | { direction: 'push'; image: string; remote: ScpHost; newName?: string }
  | { direction: 'pull'; image: string; remote: ScpHost; newName?: string };

export interface ScpReport {
  direction: 'push' | 'pull';
  /** What the load printed (on the remote host for a push). */
  output: string;
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*)|\[[0-9A-Fa-f:.]+\])$/;
const USER = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/;
const LOCAL = new Set(['', 'localhost']);

const needsRoot = (): CliError =>
  new CliError('EUSAGE', 'copying an image between users of this host needs root (Podman runs it as root): use ssh to the other account, USER@HOST::');

// [USER@]HOST[:PORT]
const parseHost = (spec: string): ScpHost => {
  const at = spec.lastIndexOf('@');
  const user = at >= 0 ? spec.slice(0, at) : undefined;
  let host = at >= 0 ? spec.slice(at + 1) : spec;
  let port: number | undefined;
  const colon = host.lastIndexOf(':');
  if (colon >= 0 && !host.endsWith(']')) {
    const text = host.slice(colon + 1);
    if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535)
      throw new CliError('EUSAGE', `invalid port "${text}" in "${spec}::": give 1-65535`);
    port = Number(text);
    host = host.slice(0, colon);
  }
  if (LOCAL.has(host)) throw needsRoot();
  if (!HOST.test(host)) throw new CliError('EUSAGE', `invalid host "${host}" in "${spec}::": letters, digits, '.', '-', '_' (not first) or [IPv6]`);
  if (user !== undefined && !USER.test(user))
    throw new CliError('EUSAGE', `invalid user "${user}" in "${spec}::": letters, digits, '.', '-', '_' (not '-' first)`);
  return { user, host, port };
};

// An image name as given (a name or an id), never an option or anything a shell would read.
const checkImage = (name: string, what: string): string => {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/.test(name)) throw new CliError('EUSAGE', `invalid ${what} "${name}": give an image name or id`);
  return name;
};

const checkNewName = (name: string | undefined): string | undefined => {
  if (!name) return undefined;
  checkImage(name, 'new name');
  const ref = parseReference(name);
  if (ref.digest) throw new CliError('EUSAGE', `cannot name the copy with a digest: "${name}"`);
  return formatReference(ref);
};

// SRC [DEST]: IMAGE [USER@]HOST[:PORT]::[NEWNAME], or [USER@]HOST[:PORT]::IMAGE [NEWNAME].
export const parseScpArgs = (source: string, destination?: string): ScpPlan => {
  const split = (arg: string) => {
    // (a bracketed IPv6 host has '::' of its own)
    const at = arg.indexOf('::', arg.startsWith('[') ? Math.max(arg.indexOf(']'), 0) : 0);
    return at < 0 ? undefined : { host: arg.slice(0, at), rest: arg.slice(at + 2) };
  };
  const src = split(source);
  const dst = destination === undefined ? undefined : split(destination);
  if (src && dst) throw new CliError('EUSAGE', 'copying between two other hosts is not supported: copy the image here first, then on');
  if (src) {
    if (LOCAL.has(src.host)) throw needsRoot();
    if (!src.rest) throw new CliError('EUSAGE', `no image in "${source}": give HOST::IMAGE`);
    return { direction: 'pull', remote: parseHost(src.host), image: checkImage(src.rest, 'image'), newName: checkNewName(destination) };
  }
  if (!dst) throw needsRoot();
  if (LOCAL.has(dst.host)) throw needsRoot();
  return { direction: 'push', image: checkImage(source, 'image'), remote: parseHost(dst.host), newName: checkNewName(dst.rest) };
};

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const sshArgv = (remote: ScpHost, command: string): string[] => [
  '-T',
  ...(remote.port ? ['-p', String(remote.port)] : []),
  '--',
  remote.user ? `${remote.user}@${remote.host}` : remote.host,
  command,
];

const target = (remote: ScpHost): string => `${remote.user ? `${remote.user}@` : ''}${remote.host}${remote.port ? `:${remote.port}` : ''}`;

interface Exit {
  code: number;
  stderr: string;
  stdout: string;
  spawnError?: NodeJS.ErrnoException;
}

// Collects a child's output and how it ended (a spawn failure too: never rejects).
const finished = (child: ChildProcess): Promise<Exit> =>
  new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-16_384)));
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: -1, stdout, stderr, spawnError: error }));
    child.on('close', (code, signal) => resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout, stderr }));
  });

const lastLine = (text: string): string =>
  text
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1) ?? '';

const sshError = (remote: ScpHost, exit: Exit): CliError => {
  if (exit.spawnError?.code === 'ENOENT')
    return new CliError('EHELPER', 'ssh not found: install the OpenSSH client (openssh-client) to copy images to other hosts');
  if (exit.spawnError) return new CliError('EHELPER', `cannot run ssh: ${exit.spawnError.message}`);
  const why = lastLine(exit.stderr);
  return new CliError('EHELPER', `ssh to ${target(remote)} failed (exit ${exit.code})${why ? `: ${why}` : ''}`);
};

// The remote shell line: skiff where it is on PATH, else Podman.
const remoteLine = (verb: string): string => `if command -v skiff >/dev/null; then c=skiff; else c=podman; fi; ${verb}`;

export const imageScp = async (ctx: EngineContext, images: ImagesEngine, source: string, destination?: string): Promise<ScpReport> => {
  const plan = parseScpArgs(source, destination);
  return plan.direction === 'push' ? push(images, plan) : pull(ctx, images, plan);
};

const push = async (images: ImagesEngine, plan: ScpPlan): Promise<ScpReport> => {
  const record = images.resolve(plan.image); // no such image: fails before ssh runs
  const tag = plan.newName ? ` && "$c" tag ${quote(record.id)} ${quote(plan.newName)}` : '';
  const ssh = spawn('ssh', sshArgv(plan.remote, remoteLine(`"$c" load${tag}`)), { stdio: ['pipe', 'pipe', 'pipe'] });
  const exit = finished(ssh);
  ssh.stdin.on('error', () => undefined); // ssh gone: its exit says why
  let saveError: unknown;
  let killed = false;
  try {
    await images.save([plan.image], 'docker-archive', ssh.stdin);
    ssh.stdin.end();
  } catch (error) {
    saveError = error;
    // A closed pipe is ssh gone (its exit says why); else the remote load must see a cut archive,
    // and stores nothing.
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') killed = ssh.kill('SIGTERM');
    else ssh.stdin.destroy();
  }
  const ended = await exit;
  if (ended.spawnError || (ended.code !== 0 && !killed)) throw sshError(plan.remote, ended);
  if (saveError) throw saveError instanceof CliError ? saveError : new CliError('EHELPER', `saving ${plan.image} failed: ${messageOf(saveError)}`);
  return { direction: 'push', output: ended.stdout };
};

const pull = async (ctx: EngineContext, images: ImagesEngine, plan: ScpPlan): Promise<ScpReport> => {
  const ssh = spawn('ssh', sshArgv(plan.remote, remoteLine(`"$c" save ${quote(plan.image)}`)), { stdio: ['ignore', 'pipe', 'pipe'] });
  let sshStderr = '';
  ssh.stderr.on('data', (d) => (sshStderr = (sshStderr + d).slice(-16_384)));
  const sshExit = new Promise<Exit>((resolve) => {
    ssh.on('error', (error: NodeJS.ErrnoException) => resolve({ code: -1, stdout: '', stderr: sshStderr, spawnError: error }));
    ssh.on('close', (code, signal) => resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout: '', stderr: sshStderr }));
  });
  if (ssh.pid === undefined) throw sshError(plan.remote, await sshExit);
  const [command, ...args] = skiffCommand(ctx, 'load');
  const load = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  load.stdin.on('error', () => undefined); // load gone: its exit says why
  ssh.stdout.pipe(load.stdin);
  const [sshEnded, loaded] = await Promise.all([sshExit, finished(load)]);
  if (sshEnded.code !== 0) {
    // A load that read a whole archive although ssh failed afterwards keeps it: it is complete.
    throw sshError(plan.remote, sshEnded);
  }
  if (loaded.code !== 0)
    throw new CliError('EHELPER', `loading the image from ${target(plan.remote)} failed: ${lastLine(loaded.stderr) || `exit ${loaded.code}`}`);
  if (plan.newName) {
    const first = /^Loaded image: (.+)$/m.exec(loaded.stdout)?.[1]?.trim();
    if (!first) throw new CliError('EHELPER', `the load from ${target(plan.remote)} named no image to tag ${plan.newName}`);
    await images.tag(first, [plan.newName]);
  }
  return { direction: 'pull', output: loaded.stdout };
};
